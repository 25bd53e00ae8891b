package xds

import (
	"cmp"
	"slices"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/model"
)

// APIListeners returns the listeners that proxyless gRPC clients load: for each host that a
// route names, a Listener named by the host, exactly as a client dials it (xds:///HOST), with
// an api_listener whose HTTP connection manager holds the route configuration inline (one
// virtual host, domain HOST) and the router filter. Sorted by name.
//
// gRPC-Go's xDS client differs from Envoy in ways that shape these listeners:
//   - it balances only over EDS (or LOGICAL_DNS) clusters, so a route is included only when
//     its backend is a Kubernetes Service, whose cluster is EDS and whose endpoints come from
//     EndpointsFor; routes to address backends (STATIC, STRICT_DNS clusters) are left out;
//   - it never sees a :method header (every call is a POST), so a route that lists methods
//     is included only when POST is among them, and then without the method condition;
//   - it dials one name, so wildcard hosts ("*.example.com") get no listener, and a host
//     whose routes are all left out gets none either.
//
// The clusters are Translate's: the server serves them, and EndpointsFor's assignments, to
// gRPC clients as to Envoy. These listeners are not for Envoy (it ignores an api_listener
// received over LDS), so serve them to gRPC clients only.
func APIListeners(e *model.Edge) []*listenerv3.Listener {
	return apiListeners(e, nil)
}

// apiListeners is APIListeners, with a Translator's cache or none.
func apiListeners(e *model.Edge, c *memo) []*listenerv3.Listener {
	byHost, wildcard := grpcHosts(e.Routes)
	built := make([]*routev3.Route, len(e.Routes))
	keys := make([]orderKey, len(e.Routes))
	for i := range e.Routes {
		if grpcUsable(&e.Routes[i]) {
			built[i], keys[i] = c.grpcRoute(&e.Routes[i])
		}
	}
	hosts := make([]apiHost, 0, len(byHost))
	for host, idx := range byHost {
		all := slices.Concat(idx, wildcard)
		hosts = append(hosts, apiHost{host: host, members: members(built, all),
			order: func() []*routev3.Route { return orderRoutes(keys, built, all) }})
	}
	out := c.apiListeners(hosts)
	slices.SortFunc(out, func(a, b *listenerv3.Listener) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// apiHost is a host that may get an api listener: its routes in the model's order (see
// members), and how to order them.
type apiHost struct {
	host    string
	members []*routev3.Route
	order   func() []*routev3.Route
}

// grpcHosts returns, by host a gRPC client can dial, the indexes of the usable routes that
// name it, and those of the usable routes that name no host.
func grpcHosts(routes []model.Route) (map[string][]int, []int) {
	var wildcard []int
	byHost := map[string][]int{}
	for i := range routes {
		r := &routes[i]
		if !grpcUsable(r) {
			continue
		}
		if len(r.Hosts) == 0 {
			wildcard = append(wildcard, i)
		}
		for _, h := range r.Hosts {
			if !strings.HasPrefix(h, "*") {
				byHost[h] = append(byHost[h], i)
			}
		}
	}
	return byHost, wildcard
}

func grpcUsable(r *model.Route) bool {
	return r.Backend.IsKubernetes() && (len(r.Match.Methods) == 0 || slices.Contains(r.Match.Methods, "POST"))
}

// grpcFlavour is the gRPC flavour of an Envoy route: the route itself when it has no method
// condition, so that both flavours share one message (validated and hashed once), else a
// copy without its :method condition.
func grpcFlavour(r *model.Route, rt *routev3.Route) *routev3.Route {
	if len(r.Match.Methods) == 0 {
		return rt
	}
	rt = proto.Clone(rt).(*routev3.Route)
	rt.Match.Headers = slices.DeleteFunc(rt.Match.Headers, func(h *routev3.HeaderMatcher) bool {
		return h.GetName() == ":method"
	})
	return rt
}

// buildAPIListener returns the api listener of host with routes, and the connection manager
// packed into it.
func buildAPIListener(host string, routes []*routev3.Route) (*listenerv3.Listener, *hcmv3.HttpConnectionManager) {
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: VirtualHostName(host),
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: host,
			VirtualHosts: []*routev3.VirtualHost{{
				Name:    VirtualHostName(host),
				Domains: []string{host},
				Routes:  routes,
			}},
		}},
		HttpFilters: []*hcmv3.HttpFilter{routerFilter()},
	}
	l := &listenerv3.Listener{Name: host, ApiListener: &listenerv3.ApiListener{ApiListener: mustAny(hcm)}}
	return l, hcm
}
