package xds

import (
	"cmp"
	"encoding/binary"
	"net"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/edgetel/edgetel/model"
)

// Virtual hosts. Envoy picks one virtual host per request by its Host header and refuses a
// route configuration in which two virtual hosts share a domain, so hosts are grouped by the
// routes they serve: hosts that serve the very same routes share one virtual host, and every
// host is in exactly one. A route that names no host serves every host: it is in the "*"
// virtual host (for hosts no route names) and in every other virtual host too.
//
// A host without a port also gets the domain "host:*", so that a client that sends the port
// in its Host header (any client of a listener on a non-default port) still finds its routes.

// hostGroup is the domains of one virtual host and the indexes of its routes in the model.
type hostGroup struct {
	domains []string
	routes  []int
}

// translateVirtualHosts translates every route and groups them into virtual hosts, sorted by
// name. A route that cannot be translated is left out and its problem reported.
func translateVirtualHosts(routes []model.Route, c *memo) ([]*routev3.VirtualHost, error) {
	built, keys, err := c.translateRoutes(routes)
	groups := groupHosts(routes)
	out := make([]*routev3.VirtualHost, 0, len(groups))
	for _, g := range groups {
		out = append(out, c.virtualHost(g, built, keys))
	}
	slices.SortFunc(out, func(a, b *routev3.VirtualHost) int { return cmp.Compare(a.Name, b.Name) })
	return out, err
}

// buildVirtualHost is the virtual host of group g, its routes ordered.
func buildVirtualHost(g hostGroup, built []*routev3.Route, keys []orderKey) *routev3.VirtualHost {
	return &routev3.VirtualHost{
		Name:    VirtualHostName(g.domains[0]),
		Domains: g.domains,
		Routes:  orderRoutes(keys, built, g.routes),
	}
}

// members returns the built routes at idx, in idx's order, nil for those not built. Two
// groups with the same members in the same order hold the same routes in the same order
// once ordered, since a built route comes with its order key.
func members(built []*routev3.Route, idx []int) []*routev3.Route {
	out := make([]*routev3.Route, len(idx))
	for i, j := range idx {
		out[i] = built[j]
	}
	return out
}

func groupHosts(routes []model.Route) []hostGroup {
	var wildcard []int
	byHost := map[string][]int{}
	for i, r := range routes {
		if len(r.Hosts) == 0 {
			wildcard = append(wildcard, i)
		}
		for _, h := range r.Hosts {
			byHost[h] = append(byHost[h], i)
		}
	}
	var groups []*hostGroup
	byRoutes := map[string]*hostGroup{}
	for h, idx := range byHost {
		key := indexKey(idx)
		g, ok := byRoutes[key]
		if !ok {
			g = &hostGroup{routes: append(slices.Clone(idx), wildcard...)}
			byRoutes[key] = g
			groups = append(groups, g)
		}
		g.domains = append(g.domains, domains(h)...)
	}
	out := make([]hostGroup, 0, len(groups)+1)
	for _, g := range groups {
		slices.Sort(g.domains)
		out = append(out, *g)
	}
	if len(wildcard) > 0 {
		out = append(out, hostGroup{domains: []string{WildcardVirtualHost}, routes: wildcard})
	}
	return out
}

// domains are the virtual host domains that serve host: itself and, without a port, host:*.
func domains(host string) []string {
	if _, _, err := net.SplitHostPort(host); err == nil || strings.HasPrefix(host, "*") {
		return []string{host}
	}
	return []string{host, host + ":*"}
}

func indexKey(idx []int) string {
	b := make([]byte, 0, 3*len(idx))
	for _, i := range idx {
		b = binary.AppendUvarint(b, uint64(i))
	}
	return string(b)
}

// routeConfigs gives every edge listener its RouteConfiguration. All hold the same virtual
// hosts, shared, since every route is served on every listener.
func routeConfigs(listeners []model.Listener, vhosts []*routev3.VirtualHost) []*routev3.RouteConfiguration {
	out := make([]*routev3.RouteConfiguration, 0, len(listeners))
	for _, l := range listeners {
		out = append(out, &routev3.RouteConfiguration{Name: RouteConfigName(l.Name), VirtualHosts: vhosts})
	}
	slices.SortFunc(out, func(a, b *routev3.RouteConfiguration) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
