package xds

import (
	"io"
	"log/slog"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"

	"github.com/edgetel/edgetel/model"
)

// edsFixture is the endpoints cache with one backend and three sink endpoints, and a node
// that holds all of it.
type edsFixture struct {
	c   *caches
	req *cachev3.Request
	sub stream.Subscription
}

func newEDSFixture(t *testing.T) *edsFixture {
	t.Helper()
	c := newCaches(slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.sinks.setEndpoints([]model.Endpoint{epA, epB, epC})
	if err := c.backends.UpdateResource("backend", EndpointsFor("backend", []model.Endpoint{epD})); err != nil {
		t.Fatal(err)
	}
	f := &edsFixture{c: c}
	f.req = &cachev3.Request{Node: &corev3.Node{Id: "n1"}, TypeUrl: resource.EndpointType, ResourceNames: []string{"backend", SinkCluster}}
	f.sub = stream.NewSotwSubscription(f.req.ResourceNames, true)
	out := make(chan cachev3.Response, 1)
	if _, err := c.endpoints.CreateWatch(f.req, &f.sub, out); err != nil {
		t.Fatal(err)
	}
	first := <-out
	f.sub.SetReturnedResources(first.GetReturnedResources())
	dr, _ := first.GetDiscoveryResponse()
	f.req.VersionInfo = dr.GetVersionInfo()
	return f
}

func (f *edsFixture) watch(t *testing.T) (chan cachev3.Response, func()) {
	t.Helper()
	out := make(chan cachev3.Response, 1)
	cancel, err := f.c.endpoints.CreateWatch(f.req, &f.sub, out)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-out:
		t.Fatalf("a node that holds everything got %v", r.GetReturnedResources())
	default:
	}
	return out, cancel
}

func TestACancelledEndpointsWatchLeavesNothingBehind(t *testing.T) {
	f := newEDSFixture(t)
	_, cancel := f.watch(t)
	if f.c.sinks.numWatches() != 1 || f.c.backends.NumWatches("backend") != 1 {
		t.Fatalf("a parked watch holds %d sink and %d backend watches; want 1 and 1",
			f.c.sinks.numWatches(), f.c.backends.NumWatches("backend"))
	}
	cancel()
	cancel() // the server may cancel twice
	deadline := time.Now().Add(2 * time.Second)
	for f.c.sinks.numWatches() != 0 || f.c.backends.NumWatches("backend") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after cancel: %d sink and %d backend watches remain", f.c.sinks.numWatches(), f.c.backends.NumWatches("backend"))
		}
		time.Sleep(time.Millisecond)
	}
}

func TestABackendChangeAnswersTheWatchAndKeepsTheSinkKnown(t *testing.T) {
	f := newEDSFixture(t)
	out, _ := f.watch(t)
	sinkVersion := f.sub.ReturnedResources()[SinkCluster]
	_ = f.c.backends.UpdateResources(map[string]types.Resource{"backend": EndpointsFor("backend", []model.Endpoint{epA})}, nil)
	r := <-out
	dr, err := r.GetDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	if len(dr.GetResources()) != 1 {
		t.Errorf("the push holds %d assignments; want only the backend's", len(dr.GetResources()))
	}
	if got := r.GetReturnedResources()[SinkCluster]; got != sinkVersion {
		t.Errorf("after a backend push the node is taken to hold sink version %q; want %q", got, sinkVersion)
	}
	if f.c.sinks.numWatches() != 0 {
		t.Errorf("the answered watch left %d sink watches", f.c.sinks.numWatches())
	}
}

func TestASinkChangeAnswersTheWatchWithTheSinkOnly(t *testing.T) {
	f := newEDSFixture(t)
	out, _ := f.watch(t)
	f.c.sinks.setEndpoints([]model.Endpoint{epD}) // every node moves to D
	r := <-out
	dr, err := r.GetDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	if len(dr.GetResources()) != 1 {
		t.Fatalf("the push holds %d assignments; want only the sink's", len(dr.GetResources()))
	}
	var cla endpointv3.ClusterLoadAssignment
	if err := dr.GetResources()[0].UnmarshalTo(&cla); err != nil || cla.GetClusterName() != SinkCluster {
		t.Errorf("the push holds %v (%v); want the sink's assignment", cla.GetClusterName(), err)
	}
	if f.c.backends.NumWatches("backend") != 0 {
		t.Errorf("the answered watch left its backend half open")
	}
}
