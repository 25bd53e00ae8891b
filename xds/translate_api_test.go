package xds

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/edgetel/edgetel/model"
)

// apiLayout is the API listeners as host → route names, and the route names that still
// hold a :method condition.
func apiLayout(t *testing.T, e *model.Edge) (map[string][]string, []string) {
	t.Helper()
	out := map[string][]string{}
	var withMethod []string
	for _, l := range APIListeners(e) {
		hcm := &hcmv3.HttpConnectionManager{}
		if err := l.GetApiListener().GetApiListener().UnmarshalTo(hcm); err != nil {
			t.Fatal(err)
		}
		vhs := hcm.GetRouteConfig().GetVirtualHosts()
		if len(vhs) != 1 || len(vhs[0].Domains) != 1 || vhs[0].Domains[0] != l.Name {
			t.Fatalf("listener %q: want one virtual host whose one domain is the listener's name, got %v", l.Name, vhs)
		}
		out[l.Name] = []string{}
		for _, r := range vhs[0].Routes {
			out[l.Name] = append(out[l.Name], r.Name)
			for _, h := range r.Match.Headers {
				if h.Name == ":method" {
					withMethod = append(withMethod, r.Name)
				}
			}
		}
	}
	return out, withMethod
}

func kubeRoute(name, prefix string, methods []string, hosts ...string) model.Route {
	return model.Route{Name: name, Hosts: hosts, Match: model.Match{Prefix: prefix, Methods: methods},
		Backend: model.Backend{Cluster: "k8s_ns_svc_50051", Service: "svc", Port: 50051}}
}

func TestAPIListeners(t *testing.T) {
	tests := []struct {
		name   string
		routes []model.Route
		want   map[string][]string
	}{
		{"each host gets a listener named by the host",
			[]model.Route{kubeRoute("g/a", "/a.A/", nil, "a.example.com"), kubeRoute("g/b", "/b.B/", nil, "b.example.com")},
			map[string][]string{"a.example.com": {"g/a"}, "b.example.com": {"g/b"}}},
		{"a route to an address backend is left out, and a host left with none gets no listener",
			[]model.Route{kubeRoute("g/a", "/", nil, "a.example.com"), testRoute("g/b", "/", "b.example.com")},
			map[string][]string{"a.example.com": {"g/a"}}},
		{"a route whose methods leave out POST is left out",
			[]model.Route{kubeRoute("g/a", "/a", []string{"POST"}, "a.example.com"), kubeRoute("g/b", "/b", []string{"GET"}, "a.example.com")},
			map[string][]string{"a.example.com": {"g/a"}}},
		{"a wildcard host gets no listener",
			[]model.Route{kubeRoute("g/a", "/", nil, "*.example.com")},
			map[string][]string{}},
		{"a route for every host is in every host's listener, most specific first",
			[]model.Route{kubeRoute("g/all", "/", nil), kubeRoute("g/a", "/a.A/", nil, "a.example.com")},
			map[string][]string{"a.example.com": {"g/a", "g/all"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEdge()
			e.Routes = tt.routes
			got, withMethod := apiLayout(t, e)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("API listeners differ (-want +got):\n%s", diff)
			}
			if len(withMethod) > 0 {
				t.Errorf("routes %v keep a :method condition, which gRPC never matches", withMethod)
			}
		})
	}
}

func TestAPIListenersAreValidWithTranslatesClusters(t *testing.T) {
	e := testEdge()
	e.Routes = append(e.Routes, kubeRoute("g/all", "/", nil))
	res, err := Translate(e)
	if err != nil {
		t.Fatal(err)
	}
	api := &Resources{Listeners: APIListeners(e), Clusters: res.Clusters, externalEDS: res.externalEDS}
	if len(api.Listeners) != 1 || api.Listeners[0].Name != "shop.example.com" {
		t.Fatalf("API listeners = %v, want one for shop.example.com", api.Listeners)
	}
	if err := api.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
}
