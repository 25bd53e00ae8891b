package join_test

import (
	"context"
	"strings"
	"testing"
	"time"

	accesslogdatav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/sink"
)

// TestLogsAndSpansSentToTheSinksOnePortAreMatchedByRequestID sends a node's access logs
// over ALS and its spans over OTLP, as the simulator builds them, to a sink's one gRPC
// port, and reads the join's counts from the sink's collectors after a clean stop: every
// sampled request is matched, every other record went alone at once.
func TestLogsAndSpansSentToTheSinksOnePortAreMatchedByRequestID(t *testing.T) {
	edge := sinktest.ExampleEdge(t)
	s, err := sink.New(sink.Config{GRPCAddr: "127.0.0.1:0"}, edge, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	conn, err := grpc.NewClient(s.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	logs, err := accesslogv3.NewAccessLogServiceClient(conn).StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	traces := ptraceotlp.NewGRPCClient(conn)

	g, err := sim.NewGenerator(edge, 7, sim.Workload{Rate: 200, Epoch: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	buf := sim.NewSpanBuffer("edge-0", sim.DefaultMinFlushSpans, 0)
	id := sim.Identifier("edge-0", sim.DefaultNodeCluster, sim.LogName)
	const n = 3000
	sampled := 0
	var entries []*accesslogdatav3.HTTPAccessLogEntry
	export := func(req ptraceotlp.ExportRequest) {
		if _, err := traces.Export(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		e := new(accesslogdatav3.HTTPAccessLogEntry)
		r := g.Next(e)
		if r.Sampled {
			sampled++
		}
		if req, ok := buf.Add(r); ok {
			export(req)
		}
		if entries = append(entries, e); len(entries) == 30 || i == n-1 {
			if err := logs.Send(sim.Message(id, entries)); err != nil {
				t.Fatal(err)
			}
			id, entries = nil, nil
		}
	}
	if req, ok := buf.Flush(); ok {
		export(req)
	}
	if _, err := logs.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	got := joinCounts(t, s)
	want := map[string]float64{
		"matched": float64(sampled), "received/log": n, "received/span": float64(sampled),
		"unmatched/not_sampled/log": float64(n - sampled),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if sampled < 100 {
		t.Errorf("only %d of %d requests sampled: the test needs more", sampled, n)
	}
}

// joinCounts gathers the sink's edgetel_join_* series as "name/label values" (labels in
// name order) → value.
func joinCounts(t *testing.T, s *sink.Sink) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collectors()...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		name, ok := strings.CutPrefix(f.GetName(), "edgetel_join_")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, "_total")
		for _, m := range f.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			out[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return out
}
