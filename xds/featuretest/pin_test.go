package featuretest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/xds"
)

// edsNames is what Envoy asks for on the example edge: its EDS clusters' assignments.
var edsNames = []string{healthCluster, xds.SinkCluster}

// fleet is n Envoys that hold their endpoints, answered.
func (e *env) fleet(n int) map[string]*stream {
	e.t.Helper()
	out := map[string]*stream{}
	for i := range n {
		node := fmt.Sprintf("edge-%02d", i)
		s := e.stream(node)
		r := s.subscribe(resource.EndpointType, edsNames...)
		s.ack(r, edsNames...)
		out[node] = s
	}
	return out
}

func sinkOf(t *testing.T, r *discoveryv3.DiscoveryResponse) *endpointv3.ClusterLoadAssignment {
	t.Helper()
	for _, cla := range unpack[*endpointv3.ClusterLoadAssignment](t, r.GetResources()) {
		if cla.GetClusterName() == xds.SinkCluster {
			return cla
		}
	}
	return nil
}

func pinned(t *testing.T, node string, eps []model.Endpoint) *endpointv3.ClusterLoadAssignment {
	t.Helper()
	ep, ok := xds.Pin(node, eps)
	if !ok {
		t.Fatal("no sink endpoint")
	}
	return xds.EndpointsFor(xds.SinkCluster, []model.Endpoint{ep})
}

func TestEachEnvoyIsServedTheSinkEndpointItIsPinnedTo(t *testing.T) {
	e := newEnv(t)
	e.publishExample("")
	seen := map[string]bool{}
	for i := range 8 {
		node := fmt.Sprintf("edge-%d", i)
		r := e.stream(node).subscribe(resource.EndpointType, edsNames...)
		got := sinkOf(t, r)
		if diff := gocmp.Diff(pinned(t, node, sinkEndpoints), got, protocmp.Transform()); diff != "" {
			t.Errorf("node %s: sink assignment (-want +got):\n%s", node, diff)
		}
		if len(got.GetEndpoints()) != 1 || len(got.GetEndpoints()[0].GetLbEndpoints()) != 1 {
			t.Errorf("node %s is given %v, not one endpoint", node, got.GetEndpoints())
		}
		seen[got.String()] = true
	}
	if len(seen) < 2 {
		t.Errorf("8 nodes all went to one of %d sinks", len(sinkEndpoints))
	}
}

// moves changes the sink's endpoints from before to after and checks that exactly the
// nodes whose pin moved get a push, holding their new sink assignment only.
func moves(t *testing.T, e *env, fleet map[string]*stream, before, after []model.Endpoint) int {
	t.Helper()
	e.srv.SetSinkEndpoints(after)
	moved := 0
	for node, s := range fleet {
		if gocmp.Equal(pinned(t, node, before), pinned(t, node, after), protocmp.Transform()) {
			continue
		}
		moved++
		r := s.recv()
		want := []*endpointv3.ClusterLoadAssignment{pinned(t, node, after)}
		if diff := gocmp.Diff(want, unpack[*endpointv3.ClusterLoadAssignment](t, r.GetResources()), protocmp.Transform()); diff != "" {
			t.Errorf("node %s: push (-want +got):\n%s", node, diff)
		}
		s.ack(r, edsNames...)
	}
	time.Sleep(quiet)
	for node, s := range fleet {
		select {
		case r := <-s.responses:
			t.Errorf("node %s, whose pin did not move, got a push of %d resources", node, len(r.GetResources()))
		default:
		}
	}
	return moved
}

func TestRemovingASinkEndpointPushesOnlyToTheNodesPinnedToIt(t *testing.T) {
	e := newEnv(t)
	e.publishExample("")
	fleet := e.fleet(12)
	if moves(t, e, fleet, sinkEndpoints, sinkEndpoints[1:]) == 0 {
		t.Fatal("no node was on the removed endpoint; the test proves nothing")
	}
}

func TestAddingASinkEndpointPushesOnlyToTheNodesItTakes(t *testing.T) {
	e := newEnv(t)
	e.publishExample("")
	fleet := e.fleet(12)
	more := append(slices.Clone(sinkEndpoints), model.Endpoint{Address: "10.2.0.4", Port: 4317})
	if moves(t, e, fleet, sinkEndpoints, more) == 0 {
		t.Fatal("the new endpoint took no node; the test proves nothing")
	}
}

func TestABackendChangeDoesNotResendTheSink(t *testing.T) {
	e := newEnv(t)
	e.publishExample("")
	s := e.stream("edge-1")
	s.ack(s.subscribe(resource.EndpointType, edsNames...), edsNames...)
	for i := range 3 {
		eps := []model.Endpoint{{Address: fmt.Sprintf("10.1.1.%d", i), Port: 50051}}
		e.srv.SetEndpoints(healthCluster, eps)
		r := s.recv()
		want := []*endpointv3.ClusterLoadAssignment{xds.EndpointsFor(healthCluster, eps)}
		if diff := gocmp.Diff(want, unpack[*endpointv3.ClusterLoadAssignment](t, r.GetResources()), protocmp.Transform()); diff != "" {
			t.Fatalf("change %d: push (-want +got):\n%s", i, diff)
		}
		s.ack(r, edsNames...)
	}
	s.nothing()
}

func TestTheSameEndpointsAgainPushNothing(t *testing.T) {
	e := newEnv(t)
	e.publishExample("")
	s := e.stream("edge-1")
	s.ack(s.subscribe(resource.EndpointType, edsNames...), edsNames...)
	e.srv.SetEndpoints(healthCluster, reversed(backendEndpoints))
	e.srv.SetSinkEndpoints(reversed(sinkEndpoints))
	s.nothing()
}

func reversed(eps []model.Endpoint) []model.Endpoint {
	out := slices.Clone(eps)
	slices.Reverse(out)
	return out
}
