package featuretest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	_ "google.golang.org/grpc/xds" // the xds:/// resolver and the xDS balancers

	"github.com/edgetel/edgetel/model"
)

// The gRPC client runs in a child process (this test binary again): gRPC reads its xDS
// bootstrap from the environment once per process.
const (
	helperEnv = "EDGETEL_XDS_GRPC_CLIENT"
	target    = "xds:///shop.example.com"
)

func TestGRPCsXDSClientCallsABackendThroughTheServedConfig(t *testing.T) {
	backend := healthServer(t)
	e := newEnv(t)
	if err := e.srv.PublishEdge(exampleEdge(t)); err != nil {
		t.Fatal(err)
	}
	e.srv.SetEndpoints(healthCluster, []model.Endpoint{backend})

	bootstrap := fmt.Sprintf(`{
		"xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "insecure"}]}],
		"node": {"id": "grpc-client-1"}
	}`, e.srv.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperGRPCClient$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "GRPC_XDS_BOOTSTRAP_CONFIG="+bootstrap)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the gRPC client failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestHelperGRPCClient") {
		t.Fatalf("the gRPC client did not run:\n%s", out)
	}
	if got := e.metric("edgetel_xds_nacks_total", "listener") + e.metric("edgetel_xds_nacks_total", "cluster") +
		e.metric("edgetel_xds_nacks_total", "endpoint"); got != 0 {
		t.Errorf("gRPC rejected %v responses", got)
	}
}

// TestHelperGRPCClient is the child process: it dials through xDS and makes one call.
func TestHelperGRPCClient(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestGRPCsXDSClientCallsABackendThroughTheServedConfig")
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatalf("Check through %s: %v", target, err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check through %s = %v; want SERVING", target, resp.GetStatus())
	}
}

// healthServer serves gRPC's health service on loopback and returns its endpoint.
func healthServer(t *testing.T) model.Endpoint {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	healthpb.RegisterHealthServer(g, health.NewServer()) // SERVING for the empty service name
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return model.Endpoint{Address: "127.0.0.1", Port: uint32(lis.Addr().(*net.TCPAddr).Port)}
}
