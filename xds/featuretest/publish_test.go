package featuretest

import (
	"context"
	"errors"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgetel/edgetel/xds"
)

func TestPublishRefusesAnInvalidConfigAndKeepsServingTheLastGoodOne(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(*xds.Resources)
		want  error
	}{
		{name: "a route to a cluster that does not exist", want: xds.ErrUnknownCluster, spoil: func(res *xds.Resources) {
			rc := proto.CloneOf(res.Routes[0])
			rc.VirtualHosts[0].Routes[0].GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "nowhere"}
			res.Routes[0] = rc
		}},
		{name: "a cluster that fails its own rules", want: xds.ErrInvalidResource, spoil: func(res *xds.Resources) {
			c := proto.CloneOf(res.Clusters[0])
			c.ConnectTimeout = durationpb.New(-time.Second)
			res.Clusters[0] = c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			good := translate(t, exampleEdge(t))
			if err := e.srv.Publish(good); err != nil {
				t.Fatal(err)
			}
			version := e.srv.Version()
			s := e.stream("edge-1")
			s.ack(s.subscribe(resource.ClusterType))

			bad := translate(t, changedExample(t))
			tt.spoil(bad)
			err := e.srv.Publish(bad)
			if !errors.Is(err, xds.ErrRejected) || !errors.Is(err, tt.want) {
				t.Fatalf("Publish = %v; want an error wrapping %v and %v", err, xds.ErrRejected, tt.want)
			}
			if got := e.srv.Version(); got != version {
				t.Errorf("Version = %s after a refused publish; want %s, the last good one", got, version)
			}
			if got := e.metric("edgetel_xds_publish_rejected_total", ""); got != 1 {
				t.Errorf("edgetel_xds_publish_rejected_total = %v; want 1", got)
			}
			s.nothing()

			clusters := e.stream("edge-2").subscribe(resource.ClusterType)
			assertResources(t, clusters, msgs(good.Clusters))
		})
	}
}

func assertResources(t *testing.T, r *discoveryv3.DiscoveryResponse, want []proto.Message) {
	t.Helper()
	got := byName(unpack[proto.Message](t, r.GetResources()))
	if diff := gocmp.Diff(byName(want), got, protocmp.Transform()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", r.GetTypeUrl(), diff)
	}
}

func TestPublishingAnEqualConfigPushesNothing(t *testing.T) {
	e := newEnv(t)
	e.publish(exampleEdge(t))
	version := e.srv.Version()
	s := e.stream("edge-1")
	s.ack(s.subscribe(resource.ListenerType))
	s.ack(s.subscribe(resource.ClusterType))

	e.publish(exampleEdge(t)) // translated anew: equal messages, not the same ones
	if got := e.srv.Version(); got != version {
		t.Errorf("Version = %s for an equal config; want %s", got, version)
	}
	s.nothing()
}

func TestTheConfigInfoMetricNamesTheVersionInForce(t *testing.T) {
	e := newEnv(t)
	e.publish(exampleEdge(t))
	e.publish(changedExample(t))
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, f := range families {
		if f.GetName() == "edgetel_xds_config_info" {
			for _, m := range f.GetMetric() {
				versions = append(versions, label(m, "version"))
			}
		}
	}
	if want := []string{e.srv.Version()}; !gocmp.Equal(versions, want) {
		t.Errorf("edgetel_xds_config_info has versions %v; want %v", versions, want)
	}
}

func TestConnectedNodesCountsNodesNotStreams(t *testing.T) {
	e := newEnv(t)
	e.publishExample("")
	a1, a2, b := e.stream("edge-a"), e.stream("edge-a"), e.stream("edge-b")
	for _, s := range []*stream{a1, a2, b} {
		s.subscribe(resource.ClusterType)
	}
	e.eventually("edgetel_xds_connected_nodes", 2)
	a1.close()
	b.close()
	e.eventually("edgetel_xds_connected_nodes", 1)
	a2.close()
	e.eventually("edgetel_xds_connected_nodes", 0)
}

// eventually waits for a gauge to reach want: a stream's end reaches the server a moment
// after the client closes it.
func (e *env) eventually(name string, want float64) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.metric(name, "") != want {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s = %v; want %v", name, e.metric(name, ""), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestADeltaClientIsToldThatOnlyStateOfTheWorldIsServed(t *testing.T) {
	e := newEnv(t)
	conn, err := grpc.NewClient(e.srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	delta, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := delta.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType}); err != nil {
		t.Fatal(err)
	}
	_, err = delta.Recv()
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("a delta stream ended with %v; want Unimplemented, saying to use state of the world", err)
	}
}

func TestAnUnservedTypeLeavesTheStreamServingTheOthers(t *testing.T) {
	e := newEnv(t)
	res := translate(t, exampleEdge(t))
	if err := e.srv.Publish(res); err != nil {
		t.Fatal(err)
	}
	s := e.stream("edge-1")
	s.request(resource.SecretType, []string{"edge-cert"}, "", "", nil)
	s.nothing()
	assertResources(t, s.subscribe(resource.ClusterType), msgs(res.Clusters))
}
