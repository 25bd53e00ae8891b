package xds

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgetel/edgetel/model"
)

// vhostLayout is a route configuration as a readable map: vhost name → domains and routes.
type vhostLayout struct {
	Domains []string
	Routes  []string
}

func layout(t *testing.T, routes []model.Route) map[string]vhostLayout {
	t.Helper()
	vhosts, err := translateVirtualHosts(routes, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]vhostLayout{}
	for _, vh := range vhosts {
		l := vhostLayout{Domains: vh.Domains}
		for _, r := range vh.Routes {
			l.Routes = append(l.Routes, r.Name)
		}
		out[vh.Name] = l
	}
	return out
}

func testRoute(name string, prefix string, hosts ...string) model.Route {
	return model.Route{Name: name, Hosts: hosts, Match: model.Match{Prefix: prefix},
		Backend: model.Backend{Cluster: "ext_b", Host: "10.0.0.1", Port: 80}}
}

func TestVirtualHosts(t *testing.T) {
	tests := []struct {
		name   string
		routes []model.Route
		want   map[string]vhostLayout
	}{
		{"hosts that serve the same routes share a virtual host",
			[]model.Route{testRoute("a/x", "/x", "a.example.com", "b.example.com")},
			map[string]vhostLayout{"a_example_com": {
				Domains: []string{"a.example.com", "a.example.com:*", "b.example.com", "b.example.com:*"},
				Routes:  []string{"a/x"}}}},
		{"a host with a route of its own gets a virtual host of its own",
			[]model.Route{testRoute("a/x", "/x", "a.example.com", "b.example.com"), testRoute("a/y", "/y", "b.example.com")},
			map[string]vhostLayout{
				"a_example_com": {Domains: []string{"a.example.com", "a.example.com:*"}, Routes: []string{"a/x"}},
				"b_example_com": {Domains: []string{"b.example.com", "b.example.com:*"}, Routes: []string{"a/x", "a/y"}}}},
		{"a route for every host is in the * virtual host and in every other",
			[]model.Route{testRoute("a/x", "/x", "a.example.com"), testRoute("z/all", "/all")},
			map[string]vhostLayout{
				"*":             {Domains: []string{"*"}, Routes: []string{"z/all"}},
				"a_example_com": {Domains: []string{"a.example.com", "a.example.com:*"}, Routes: []string{"z/all", "a/x"}}}},
		{"a host with a port or a wildcard gets no host:* domain",
			[]model.Route{testRoute("a/x", "/x", "a.example.com:8443", "*.example.com")},
			map[string]vhostLayout{"*_example_com": {Domains: []string{"*.example.com", "a.example.com:8443"}, Routes: []string{"a/x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, layout(t, tt.routes)); diff != "" {
				t.Errorf("virtual hosts differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTranslateReportsEveryProblemAndKeepsTheRest(t *testing.T) {
	e := testEdge()
	e.Routes = append(e.Routes,
		model.Route{Name: "bad/no-backend", Match: model.Match{Prefix: "/a"}},
		model.Route{Name: "bad/two-matches", Match: model.Match{Prefix: "/b", Path: "/b"}, Backend: model.Backend{Cluster: "ext_x", Host: "10.0.0.1", Port: 80}},
		model.Route{Name: "bad/not-utf8", Match: model.Match{Prefix: "/\xff"}, Backend: model.Backend{Cluster: "ext_x", Host: "10.0.0.1", Port: 80}},
	)
	res, err := Translate(e)
	if !errors.Is(err, ErrUntranslatable) {
		t.Fatalf("Translate = %v, want ErrUntranslatable", err)
	}
	for _, name := range []string{"bad/no-backend", "bad/two-matches", "bad/not-utf8"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s: %v", name, err)
		}
	}
	var names []string
	for _, vh := range res.Routes[0].VirtualHosts {
		for _, r := range vh.Routes {
			names = append(names, r.Name)
		}
	}
	if !slices.Contains(names, "shop/cart") || slices.Contains(names, "bad/two-matches") {
		t.Errorf("routes kept = %v, want the good ones only", names)
	}
}
