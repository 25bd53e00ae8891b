package featuretest

import (
	"errors"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/xds"
)

// changedExample is the example edge with a change to every type: a second listener (a new
// listener and route configuration) and the payments route on another port (a new cluster).
func changedExample(t *testing.T) *model.Edge {
	t.Helper()
	e := exampleEdge(t)
	e.Listeners = append(e.Listeners[:len(e.Listeners):len(e.Listeners)], model.Listener{Name: "alt", Address: "0.0.0.0", Port: 10001})
	pay := e.Route("payments/payments-api")
	if pay == nil {
		t.Fatal("the example has no route payments/payments-api")
	}
	pay.Backend.Port++
	pay.Backend.Cluster += "_moved"
	return e
}

func TestARejectedConfigIsNotResentUntilItChanges(t *testing.T) {
	tests := []struct {
		name, typeURL, label string
		names                []string
		change               func(*env)
	}{
		{name: "listeners", typeURL: resource.ListenerType, label: "listener",
			change: func(e *env) { e.publish(changedExample(e.t)) }},
		{name: "routes", typeURL: resource.RouteType, label: "route", names: []string{xds.RouteConfigName("http")},
			change: func(e *env) { e.publish(changedExample(e.t)) }},
		{name: "clusters", typeURL: resource.ClusterType, label: "cluster",
			change: func(e *env) { e.publish(changedExample(e.t)) }},
		{name: "endpoints", typeURL: resource.EndpointType, label: "endpoint", names: edsNames,
			change: func(e *env) { e.srv.SetEndpoints(healthCluster, sinkEndpoints) }},
		{name: "the sink's endpoint", typeURL: resource.EndpointType, label: "endpoint", names: edsNames,
			change: func(e *env) { e.srv.SetSinkEndpoints(backendEndpoints) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.publishExample("")
			s := e.stream("edge-1")
			first := s.subscribe(tt.typeURL, tt.names...)
			s.nack(first, "", errors.New("rejected by the test"), tt.names...)
			s.nothing()
			if got := e.metric("edgetel_xds_nacks_total", tt.label); got != 1 {
				t.Errorf("edgetel_xds_nacks_total{type=%q} = %v; want 1", tt.label, got)
			}

			tt.change(e)
			next := s.recv()
			if next.GetVersionInfo() == first.GetVersionInfo() {
				t.Errorf("the change was pushed as the rejected version %s", first.GetVersionInfo())
			}
			s.ack(next, tt.names...)
			s.nothing()
		})
	}
}

func TestARejectedConfigIsNotResentOnANewRequestForIt(t *testing.T) {
	// Envoy re-sends its last request on some events (a new resource name, a timer); the
	// rejected version must not come back for those either.
	e := newEnv(t)
	e.publishExample("")
	s := e.stream("edge-1")
	r := s.subscribe(resource.ClusterType)
	s.nack(r, "", errors.New("rejected"))
	s.nothing()
	s.nack(r, "", errors.New("rejected"))
	s.nothing()
	if got := e.metric("edgetel_xds_nacks_total", "cluster"); got != 2 {
		t.Errorf("edgetel_xds_nacks_total{type=\"cluster\"} = %v; want 2", got)
	}
}

func (e *env) publish(edge *model.Edge) {
	e.t.Helper()
	if err := e.srv.Publish(translate(e.t, edge)); err != nil {
		e.t.Fatal(err)
	}
}
