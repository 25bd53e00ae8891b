package featuretest

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/xds"
)

// quiet is how long a test waits to be sure that nothing more is pushed. Pushes on
// loopback take well under a millisecond.
const quiet = 300 * time.Millisecond

// healthCluster is the cluster of the example's cart route once it runs in Kubernetes.
const healthCluster = "k8s_shop_cart_50051"

// env is a started server with its metrics.
type env struct {
	t   *testing.T
	srv *xds.Server
	reg *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	srv, err := xds.NewServer(xds.Config{ListenAddress: "127.0.0.1:0", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := srv.Register(reg); err != nil {
		t.Fatal(err)
	}
	startServer(t, srv)
	return &env{t: t, srv: srv, reg: reg}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// exampleEdge is the embedded example edge, with its sink and its cart route moved to
// Kubernetes (so that both are EDS clusters) and the cart route serving gRPC health checks.
func exampleEdge(t *testing.T) *model.Edge {
	t.Helper()
	policies, err := config.NewDir(examples.Policies(), "examples").Load()
	if err != nil {
		t.Fatal(err)
	}
	out := config.Compile(config.Input{Policies: policies})
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	e := *out.Edge
	e.Routes = slices.Clone(e.Routes)
	e.Sink = model.Sink{Service: "edgetel/edgetel-sink", Port: 4317}
	cart := e.Route("shop/cart")
	if cart == nil {
		t.Fatal("the example has no route shop/cart")
	}
	cart.Match = model.Match{Prefix: "/grpc.health.v1.Health/"}
	cart.Backend = model.Backend{Cluster: healthCluster, Service: "cart", Port: 50051}
	return &e
}

func translate(t *testing.T, e *model.Edge) *xds.Resources {
	t.Helper()
	res, err := xds.Translate(e)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// metric returns the value of the counter or gauge name with the given type label ("" for
// none).
func (e *env) metric(name, typ string) float64 {
	e.t.Helper()
	families, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if typ == "" || label(m, "type") == typ {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// stream is an ADS stream driven by hand, the way Envoy drives it: one stream for every
// type, resources asked for by name (or all, for listeners and clusters), and every
// response answered.
type stream struct {
	t         *testing.T
	node      *corev3.Node
	ads       discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	responses chan *discoveryv3.DiscoveryResponse
	cancel    context.CancelFunc
}

func (e *env) stream(nodeID string) *stream {
	e.t.Helper()
	conn, err := grpc.NewClient(e.srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ads, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	s := &stream{t: e.t, node: &corev3.Node{Id: nodeID, UserAgentName: "envoy"}, ads: ads,
		responses: make(chan *discoveryv3.DiscoveryResponse, 16), cancel: cancel}
	go func() {
		defer close(s.responses)
		for {
			resp, err := ads.Recv()
			if err != nil {
				return
			}
			s.responses <- resp
		}
	}()
	e.t.Cleanup(func() { s.close(); conn.Close() })
	return s
}

func (s *stream) close() { s.cancel() }

// request sends a request for typeURL that answers the response with the given nonce
// ("" for the first request) and holds version, the last version accepted.
func (s *stream) request(typeURL string, names []string, version, nonce string, nack error) {
	s.t.Helper()
	req := &discoveryv3.DiscoveryRequest{Node: s.node, TypeUrl: typeURL, ResourceNames: names,
		VersionInfo: version, ResponseNonce: nonce}
	if nack != nil {
		req.ErrorDetail = &status.Status{Code: 3, Message: nack.Error()}
	}
	if err := s.ads.Send(req); err != nil {
		s.t.Fatalf("sending a %s request: %v", typeURL, err)
	}
}

// ack accepts r, still asking for names.
func (s *stream) ack(r *discoveryv3.DiscoveryResponse, names ...string) {
	s.t.Helper()
	s.request(r.GetTypeUrl(), names, r.GetVersionInfo(), r.GetNonce(), nil)
}

// nack rejects r and stays on version accepted.
func (s *stream) nack(r *discoveryv3.DiscoveryResponse, accepted string, why error, names ...string) {
	s.t.Helper()
	s.request(r.GetTypeUrl(), names, accepted, r.GetNonce(), why)
}

// recv returns the next response, which must come within a few seconds.
func (s *stream) recv() *discoveryv3.DiscoveryResponse {
	s.t.Helper()
	select {
	case r, ok := <-s.responses:
		if !ok {
			s.t.Fatalf("node %s: the stream ended", s.node.GetId())
		}
		return r
	case <-time.After(5 * time.Second):
		s.t.Fatalf("node %s: no response within 5s", s.node.GetId())
	}
	return nil
}

// subscribe asks for a type and returns the first response, unanswered.
func (s *stream) subscribe(typeURL string, names ...string) *discoveryv3.DiscoveryResponse {
	s.t.Helper()
	s.request(typeURL, names, "", "", nil)
	return s.recv()
}

// nothing asserts that nothing is pushed for a while.
func (s *stream) nothing() {
	s.t.Helper()
	select {
	case r := <-s.responses:
		s.t.Fatalf("node %s: unexpected push of %s version %s with %d resources", s.node.GetId(), r.GetTypeUrl(), r.GetVersionInfo(), len(r.GetResources()))
	case <-time.After(quiet):
	}
}

// unpack decodes every resource of a response.
func unpack[T proto.Message](t *testing.T, anys []*anypb.Any) []T {
	t.Helper()
	out := make([]T, 0, len(anys))
	for _, a := range anys {
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		v, ok := m.(T)
		if !ok {
			t.Fatalf("a response holds a %T", m)
		}
		out = append(out, v)
	}
	return out
}

// startServer starts srv and shuts it down when the test ends.
func startServer(t *testing.T, srv *xds.Server) {
	t.Helper()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
}
