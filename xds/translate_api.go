package xds

import (
	"cmp"
	"slices"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

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
	var wildcard []int
	byHost := map[string][]int{}
	for i := range e.Routes {
		r := &e.Routes[i]
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
	built := make([]*routev3.Route, len(e.Routes))
	keys := make([]orderKey, len(e.Routes))
	for i := range e.Routes {
		if grpcUsable(&e.Routes[i]) {
			built[i], keys[i] = grpcRoute(&e.Routes[i]), newOrderKey(&e.Routes[i])
		}
	}
	out := make([]*listenerv3.Listener, 0, len(byHost))
	for host, idx := range byHost {
		routes := orderRoutes(keys, built, slices.Concat(idx, wildcard))
		if len(routes) > 0 {
			out = append(out, apiListener(host, routes))
		}
	}
	slices.SortFunc(out, func(a, b *listenerv3.Listener) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func grpcUsable(r *model.Route) bool {
	return r.Backend.IsKubernetes() && (len(r.Match.Methods) == 0 || slices.Contains(r.Match.Methods, "POST"))
}

// grpcRoute is the Envoy route without its :method condition; nil if it cannot be built
// (Translate reports why).
func grpcRoute(r *model.Route) *routev3.Route {
	rt, err := translateRoute(r)
	if err != nil {
		return nil
	}
	if len(r.Match.Methods) > 0 {
		rt.Match.Headers = slices.DeleteFunc(rt.Match.Headers, func(h *routev3.HeaderMatcher) bool {
			return h.GetName() == ":method"
		})
	}
	return rt
}

func apiListener(host string, routes []*routev3.Route) *listenerv3.Listener {
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
	return &listenerv3.Listener{Name: host, ApiListener: &listenerv3.ApiListener{ApiListener: mustAny(hcm)}}
}
