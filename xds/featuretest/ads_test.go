package featuretest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	sotw "github.com/envoyproxy/go-control-plane/pkg/client/sotw/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/xds"
)

var types = []string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType}

var (
	backendEndpoints = []model.Endpoint{{Address: "10.1.0.1", Port: 50051, Zone: "zone-a"}, {Address: "10.1.0.2", Port: 50051, Zone: "zone-b"}}
	sinkEndpoints    = []model.Endpoint{{Address: "10.2.0.1", Port: 4317}, {Address: "10.2.0.2", Port: 4317}, {Address: "10.2.0.3", Port: 4317}}
)

// sotwClients is one go-control-plane ADS client per type, all of one node.
type sotwClients struct {
	t       *testing.T
	clients map[string]sotw.ADSClient
	cancel  context.CancelFunc
}

func (e *env) sotwClients(nodeID string) *sotwClients {
	e.t.Helper()
	conn, err := grpc.NewClient(e.srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &sotwClients{t: e.t, clients: map[string]sotw.ADSClient{}, cancel: cancel}
	e.t.Cleanup(func() { cancel(); conn.Close() })
	for _, typeURL := range types {
		client := sotw.NewADSClient(ctx, &corev3.Node{Id: nodeID, UserAgentName: "envoy"}, typeURL)
		if err := client.InitConnect(conn); err != nil {
			e.t.Fatal(err)
		}
		c.clients[typeURL] = client
	}
	return c
}

// fetch waits for the next response of a type, with a deadline: the client's own Fetch has
// none.
func (c *sotwClients) fetch(typeURL string) (*sotw.Response, error) {
	got := make(chan *sotw.Response, 1)
	errs := make(chan error, 1)
	go func() {
		r, err := c.clients[typeURL].Fetch()
		if err != nil {
			errs <- err
			return
		}
		got <- r
	}()
	select {
	case r := <-got:
		return r, c.clients[typeURL].Ack()
	case err := <-errs:
		return nil, err
	case <-time.After(5 * time.Second):
		return nil, errors.New("no response within 5s")
	}
}

func msgs[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

func byName(ms []proto.Message) []proto.Message {
	return slices.SortedFunc(slices.Values(ms), func(a, b proto.Message) int {
		return cmp.Compare(cachev3.GetResourceName(a), cachev3.GetResourceName(b))
	})
}

// publishExample publishes the example edge with its backend and sink endpoints, and
// returns what every type must then hold for node.
func (e *env) publishExample(node string) map[string][]proto.Message {
	e.t.Helper()
	res := translate(e.t, exampleEdge(e.t))
	if err := e.srv.Publish(res); err != nil {
		e.t.Fatal(err)
	}
	e.srv.SetEndpoints(healthCluster, backendEndpoints)
	e.srv.SetSinkEndpoints(sinkEndpoints)
	pinned, _ := xds.Pin(node, sinkEndpoints)
	return map[string][]proto.Message{
		resource.ListenerType: msgs(res.Listeners),
		resource.RouteType:    msgs(res.Routes),
		resource.ClusterType:  msgs(res.Clusters),
		resource.EndpointType: {
			xds.EndpointsFor(healthCluster, backendEndpoints),
			xds.EndpointsFor(xds.SinkCluster, []model.Endpoint{pinned}),
		},
	}
}

func TestGoControlPlanesADSClientFetchesEveryTypeAsPublished(t *testing.T) {
	e := newEnv(t)
	want := e.publishExample("edge-1")
	c := e.sotwClients("edge-1")
	for _, typeURL := range types {
		r, err := c.fetch(typeURL)
		if err != nil {
			t.Fatalf("%s: %v", typeURL, err)
		}
		got := byName(unpack[proto.Message](t, r.Resources))
		if diff := gocmp.Diff(byName(want[typeURL]), got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: what the client got differs from what was published (-want +got):\n%s", typeURL, diff)
		}
	}
}

func TestAnEndpointChangePushesOnlyThatAssignment(t *testing.T) {
	e := newEnv(t)
	e.publishExample("edge-1")
	c := e.sotwClients("edge-1")
	for _, typeURL := range types {
		if _, err := c.fetch(typeURL); err != nil {
			t.Fatalf("%s: %v", typeURL, err)
		}
	}
	pushed := map[string]float64{}
	for _, l := range []string{"listener", "route", "cluster"} {
		pushed[l] = e.metric("edgetel_xds_pushes_total", l)
	}
	later := make(map[string]chan *sotw.Response, len(types))
	for _, typeURL := range types {
		later[typeURL] = make(chan *sotw.Response, 1)
		go func() {
			if r, err := c.clients[typeURL].Fetch(); err == nil {
				later[typeURL] <- r
			}
		}()
	}

	moved := []model.Endpoint{{Address: "10.1.0.9", Port: 50051, Zone: "zone-a"}}
	e.srv.SetEndpoints(healthCluster, moved)

	select {
	case r := <-later[resource.EndpointType]:
		got := unpack[proto.Message](t, r.Resources)
		want := []proto.Message{xds.EndpointsFor(healthCluster, moved)}
		if diff := gocmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("the push holds more or other than the changed assignment (-want +got):\n%s", diff)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no endpoints were pushed")
	}
	time.Sleep(quiet)
	for _, typeURL := range types[:3] {
		select {
		case r := <-later[typeURL]:
			t.Errorf("%s was pushed again (%d resources) on an endpoint change", typeURL, len(r.Resources))
		default:
		}
	}
	for l, n := range pushed {
		if got := e.metric("edgetel_xds_pushes_total", l); got != n {
			t.Errorf("edgetel_xds_pushes_total{type=%q} went from %v to %v", l, n, got)
		}
	}
}
