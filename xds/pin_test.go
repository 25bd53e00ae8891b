package xds

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/edgetel/edgetel/model"
)

func sinkEP(addr string) model.Endpoint { return model.Endpoint{Address: addr, Port: 4317} }

func nodeIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("envoy-%d.edge.svc", i)
	}
	return out
}

func pinAll(t *testing.T, ns []string, eps []model.Endpoint) map[string]string {
	t.Helper()
	out := make(map[string]string, len(ns))
	for _, n := range ns {
		p, ok := Pin(n, eps)
		if !ok {
			t.Fatalf("Pin(%q) found no endpoint among %d", n, len(eps))
		}
		out[n] = p.Address
	}
	return out
}

var (
	epA, epB, epC, epD = sinkEP("10.0.0.1"), sinkEP("10.0.0.2"), sinkEP("10.0.0.3"), sinkEP("10.0.0.4")
)

func TestPin(t *testing.T) {
	tests := []struct {
		name string
		node string
		eps  []model.Endpoint
		want model.Endpoint
		ok   bool
	}{
		{name: "no endpoint pins nothing", node: "n1", eps: nil, ok: false},
		{name: "one endpoint takes every node", node: "n1", eps: []model.Endpoint{epB}, want: epB, ok: true},
		{name: "the order of the endpoints does not matter", node: "n1", eps: []model.Endpoint{epC, epA, epB}, want: pinOf(t, "n1", epA, epB, epC), ok: true},
		{name: "a duplicate endpoint does not change the pin", node: "n1", eps: []model.Endpoint{epA, epB, epC, epA}, want: pinOf(t, "n1", epA, epB, epC), ok: true},
		{name: "the zone does not change the pin", node: "n1", eps: []model.Endpoint{{Address: epA.Address, Port: epA.Port, Zone: "z1"}, epB, epC},
			want: withZoneIfA(pinOf(t, "n1", epA, epB, epC), "z1"), ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Pin(tt.node, tt.eps)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Pin(%q, %v) = %v, %v; want %v, %v", tt.node, tt.eps, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func pinOf(t *testing.T, node string, eps ...model.Endpoint) model.Endpoint {
	t.Helper()
	p, ok := Pin(node, eps)
	if !ok {
		t.Fatal("no pin")
	}
	return p
}

// withZoneIfA returns p with zone set when it is endpoint A, the one given a zone in the case.
func withZoneIfA(p model.Endpoint, zone string) model.Endpoint {
	if p.Address == epA.Address {
		p.Zone = zone
	}
	return p
}

func TestPinWeightIsStableAcrossReleases(t *testing.T) {
	// Replicas of edgetel xds and restarts must agree on every pin: a change of this value
	// moves every Envoy of every fleet to another sink at upgrade.
	if got, want := pinWeight("envoy-0", "10.0.0.1:4317"), uint64(0xb4d6a05f4ac82b4f); got != want {
		t.Errorf("pinWeight = %#x; want %#x", got, want)
	}
}

func TestEndpointsShareTheNodesEvenly(t *testing.T) {
	ns := nodeIDs(4000)
	count := map[string]int{}
	for _, p := range pinAll(t, ns, []model.Endpoint{epA, epB, epC, epD}) {
		count[p]++
	}
	for addr, n := range count {
		if math.Abs(float64(n)-1000) > 150 {
			t.Errorf("%s holds %d of 4000 nodes; want about 1000", addr, n)
		}
	}
}

func TestRemovingAnEndpointMovesOnlyItsNodes(t *testing.T) {
	ns := nodeIDs(2000)
	before := pinAll(t, ns, []model.Endpoint{epA, epB, epC})
	after := pinAll(t, ns, []model.Endpoint{epB, epC})
	moved := 0
	for _, n := range ns {
		switch {
		case before[n] == epA.Address:
			moved++
		case after[n] != before[n]:
			t.Errorf("node %s moved from %s to %s though %s stayed", n, before[n], after[n], before[n])
		}
	}
	if moved == 0 {
		t.Fatal("no node was on the removed endpoint; the test proves nothing")
	}
}

func TestAddingAnEndpointMovesAQuarterOfTheNodesAndOnlyToIt(t *testing.T) {
	ns := nodeIDs(4000)
	before := pinAll(t, ns, []model.Endpoint{epA, epB, epC})
	after := pinAll(t, ns, []model.Endpoint{epA, epB, epC, epD})
	moved := 0
	for _, n := range ns {
		if after[n] == before[n] {
			continue
		}
		moved++
		if after[n] != epD.Address {
			t.Errorf("node %s moved from %s to %s, not to the new endpoint", n, before[n], after[n])
		}
	}
	if frac := float64(moved) / float64(len(ns)); frac < 0.21 || frac > 0.29 {
		t.Errorf("%.1f%% of nodes moved; want about 25%%", 100*frac)
	}
}

func TestAnEndpointThatComesBackGetsItsNodesBack(t *testing.T) {
	ns := nodeIDs(500)
	before := pinAll(t, ns, []model.Endpoint{epA, epB, epC})
	pinAll(t, ns, []model.Endpoint{epB, epC})
	again := pinAll(t, ns, []model.Endpoint{epC, epB, epA})
	for _, n := range ns {
		if again[n] != before[n] {
			t.Errorf("node %s is on %s after a restart of %s; was on %s", n, again[n], epA.Address, before[n])
		}
	}
}

func TestSortEndpointsOrdersAndDropsDuplicates(t *testing.T) {
	got := sortEndpoints([]model.Endpoint{epC, epA, epB, epA})
	if want := []model.Endpoint{epA, epB, epC}; !slices.Equal(got, want) {
		t.Errorf("sortEndpoints = %v; want %v", got, want)
	}
}
