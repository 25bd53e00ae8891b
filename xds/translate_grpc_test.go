package xds

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	xdsgrpc "google.golang.org/grpc/xds"

	"github.com/edgetel/edgetel/model"
)

// TestAGRPCClientCompletesAnRPCThroughTheAPIListeners holds the translator to what gRPC-Go's
// xDS client accepts, apart from edgetel's server: the API listener, the EDS cluster and an
// EndpointsFor assignment, served by go-control-plane's own snapshot cache with every
// cluster of the edge (gRPC asks for the one it needs; the cache is not in ADS mode, which
// would wait for a request naming all of them), route a real RPC to a real backend. The
// route lists methods, so the :method condition must be gone.
func TestAGRPCClientCompletesAnRPCThroughTheAPIListeners(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	backend := serveGRPC(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, health.NewServer()) })

	e := testEdge()
	e.Routes = []model.Route{{
		Name: "grpc/health", Hosts: []string{"shop.example.com"},
		Match:   model.Match{Prefix: "/grpc.health.v1.Health/", Methods: []string{"GET", "POST"}},
		Backend: model.Backend{Cluster: "k8s_grpc_health_50051", Service: "health", Port: 50051},
		Timeout: time.Second, Retries: &model.Retries{Attempts: 2, On: []string{"5xx"}}, SamplingPercent: 1,
	}}
	res, err := Translate(e)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := cachev3.NewSnapshot("1", map[resourcev3.Type][]types.Resource{
		resourcev3.ListenerType: toResources(APIListeners(e)),
		resourcev3.ClusterType:  toResources(res.Clusters),
		resourcev3.EndpointType: {EndpointsFor("k8s_grpc_health_50051", []model.Endpoint{{Address: "127.0.0.1", Port: backend, Zone: "z1"}})},
	})
	if err != nil {
		t.Fatal(err)
	}
	snapshots := cachev3.NewSnapshotCache(false, cachev3.IDHash{}, nil)
	if err := snapshots.SetSnapshot(ctx, "grpc-client", snap); err != nil {
		t.Fatal(err)
	}
	xdsPort := serveGRPC(t, func(s *grpc.Server) {
		discoveryv3.RegisterAggregatedDiscoveryServiceServer(s, serverv3.NewServer(ctx, snapshots, nil))
	})

	bootstrap := fmt.Sprintf(`{"xds_servers": [{"server_uri": "127.0.0.1:%d", "channel_creds": [{"type": "insecure"}],
		"server_features": ["xds_v3"]}], "node": {"id": "grpc-client"}}`, xdsPort)
	resolver, err := xdsgrpc.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient("xds:///shop.example.com", grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(resolver))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatalf("the RPC through xds:///shop.example.com failed: %v", err)
	}
	if resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health = %v, want SERVING", resp.Status)
	}
}

// serveGRPC serves a gRPC server on a loopback port until the test ends.
func serveGRPC(t *testing.T, register func(*grpc.Server)) uint32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	register(s)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return uint32(l.Addr().(*net.TCPAddr).Port)
}

func toResources[T types.Resource](ms []T) []types.Resource {
	out := make([]types.Resource, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}
