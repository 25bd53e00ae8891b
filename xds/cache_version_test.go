package xds

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

func clusterWithOptions(t *testing.T, fields map[string]any) *clusterv3.Cluster {
	t.Helper()
	st, err := structpb.NewStruct(fields)
	if err != nil {
		t.Fatal(err)
	}
	return &clusterv3.Cluster{Name: "c", TypedExtensionProtocolOptions: map[string]*anypb.Any{"opts": mustAny(st)}}
}

func versionOf[T proto.Message](t *testing.T, h *hasher, ms ...T) string {
	t.Helper()
	h.next()
	v, err := contentVersion(h, ms)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEqualResourcesHaveEqualVersions(t *testing.T) {
	fields := map[string]any{"a": "a", "b": "b", "c": "c", "d": "d", "e": "e", "f": "f", "g": "g", "h": "h"}
	h := newHasher()
	want := versionOf(t, h, clusterWithOptions(t, fields))
	for range 20 {
		if got := versionOf(t, newHasher(), clusterWithOptions(t, fields)); got != want {
			t.Fatalf("version %s, then %s, for equal resources", want, got)
		}
		if got := versionOf(t, h, clusterWithOptions(t, fields)); got != want {
			t.Fatalf("version %s, then %s, for equal resources hashed by one hasher", want, got)
		}
	}
}

func TestTheOrderOfResourcesDoesNotChangeTheVersion(t *testing.T) {
	a, b := &clusterv3.Cluster{Name: "a"}, &clusterv3.Cluster{Name: "b"}
	if versionOf(t, newHasher(), a, b) != versionOf(t, newHasher(), b, a) {
		t.Error("the version depends on the order of the resources")
	}
}

func TestAnyChangeChangesTheVersion(t *testing.T) {
	base := clusterWithOptions(t, map[string]any{"k": "v"})
	renamed := proto.CloneOf(base)
	renamed.Name = "d"
	tests := map[string][]*clusterv3.Cluster{
		"a renamed resource":     {renamed},
		"a change inside an Any": {clusterWithOptions(t, map[string]any{"k": "w"})},
		"one more resource":      {base, {Name: "other"}},
		"no resource":            {},
	}
	seen := map[string]string{versionOf(t, newHasher(), base): "the base"}
	for name, cs := range tests {
		v := versionOf(t, newHasher(), cs...)
		if other, dup := seen[v]; dup {
			t.Errorf("%s has the version of %s", name, other)
		}
		seen[v] = name
	}
}

func hashRouteConfig(routes ...*routev3.Route) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: "edge_http", VirtualHosts: []*routev3.VirtualHost{{Name: "shop", Domains: []string{"shop"}, Routes: routes}}}
}

func hashRoute(name string, timeout time.Duration) *routev3.Route {
	return &routev3.Route{Name: name, Action: &routev3.Route_Route{Route: &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "c"}, Timeout: durationpb.New(timeout)}}}
}

// A Translator hands over the routes it reused in a new route configuration: the version
// must follow the content all the same, however the routes were shared.
func TestARouteConfigurationIsVersionedByItsRoutesWhereverTheyComeFrom(t *testing.T) {
	h := newHasher()
	r1, r2 := hashRoute("r1", time.Second), hashRoute("r2", 2*time.Second)
	first := versionOf(t, h, hashRouteConfig(r1, r2))
	changed := proto.CloneOf(r2)
	changed.Name = "r2b"
	if versionOf(t, h, hashRouteConfig(r1, changed)) == first {
		t.Error("a changed route in a reused configuration kept the version")
	}
	if got := versionOf(t, h, hashRouteConfig(proto.CloneOf(r1), proto.CloneOf(r2))); got != first {
		t.Errorf("equal routes, new messages: version %s; want %s", got, first)
	}
	if versionOf(t, h, hashRouteConfig(r2, r1)) == first {
		t.Error("reordered routes kept the version, though Envoy matches routes in order")
	}
}

func TestTheHasherForgetsWhatAPublishDidNotUse(t *testing.T) {
	h := newHasher()
	versionOf(t, h, hashRouteConfig(hashRoute("r1", time.Second)))
	kept := &clusterv3.Cluster{Name: "other"}
	versionOf(t, h, kept)
	h.next()
	if _, ok := h.seen[kept]; !ok || len(h.seen) != 1 {
		t.Errorf("the hasher holds %d digests; want only the one of the last publish", len(h.seen))
	}
}
