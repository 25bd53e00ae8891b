package e2e

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgetel/edgetel/internal/jaegertest"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/sink"
	"github.com/edgetel/edgetel/tracing/jaeger"
)

// TestJaegerHoldsEveryBadRequestsTraceAndCountsWhatItMissed runs the real Jaeger behind a
// sink fed with the simulator's access logs and spans, as one Envoy node sends them:
//
//   - a slow checkout request that was sampled has its trace in Jaeger with the join's
//     attributes (route, flags, verdict, the broken objective);
//   - a bad request that was not sampled has a synthesized trace, under the trace ID its
//     access log's traceparent carries;
//   - with Jaeger stopped, spans wait in the bounded queue and the rest are dropped and
//     counted; once it is back, exports resume, and the spans missing from Jaeger are as
//     many as the drops counted.
func TestJaegerHoldsEveryBadRequestsTraceAndCountsWhatItMissed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Jaeger for ~20s")
	}
	const queue = 256
	j := jaegertest.Start(t)
	edge := exampleEdge(t)
	s := sinktest.StartWith(t, edge, sink.Config{
		Join: join.Config{Window: 2 * time.Second},
		Jaeger: jaeger.Config{
			Endpoint: j.OTLPAddr, Window: 4 * time.Second,
			QueueSpans: queue, BatchSpans: 32, BatchTimeout: 20 * time.Millisecond,
			InitialBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
			RetryMaxElapsed: time.Minute,
		},
	})
	gen, err := sim.NewGenerator(edge, 7, sim.Workload{Rate: 2000, Incidents: []sim.Incident{
		{Route: "shop/checkout", Duration: time.Hour, ErrorRatio: 0.2, LatencyFactor: 8},
	}})
	if err != nil {
		t.Fatal(err)
	}
	envoy := dialEnvoy(t, s.Addr().String())

	// Phase 1: Jaeger up.
	reqs := envoy.send(t, gen, 2000, 10*time.Millisecond)
	if c := waitExported(t, s, 30*time.Second); c.dropped != 0 {
		t.Fatalf("with Jaeger up, %v spans were dropped: %+v", c.dropped, c)
	}
	slow := find(reqs, func(r *sim.Request) bool {
		return r.RouteName == "shop/checkout" && r.Sampled && !r.Bad() && r.Duration > 350*time.Millisecond
	})
	unsampled := find(reqs, func(r *sim.Request) bool {
		return r.RouteName == "shop/checkout" && !r.Sampled && r.Status >= 500
	})
	if slow == nil || unsampled == nil {
		t.Fatalf("the simulator made no slow sampled checkout request (%v) or no failed unsampled one (%v)", slow, unsampled)
	}
	span := traceSpan(t, j, slow.TraceID)
	wantAttrs(t, span, map[string]string{jaeger.AttrRoute: "shop/checkout", jaeger.AttrVerdict: "bad",
		jaeger.AttrBroken: "latency", jaeger.AttrResponseFlags: "-", jaeger.AttrStatusCode: strconv.FormatUint(uint64(slow.Status), 10),
		"guid:x-request-id": slow.RequestID})
	if span.Attr(jaeger.AttrSynthesized) != "" {
		t.Error("the sampled request's span is marked synthesized")
	}
	span = traceSpan(t, j, unsampled.TraceID)
	wantAttrs(t, span, map[string]string{jaeger.AttrRoute: "shop/checkout", jaeger.AttrVerdict: "bad",
		jaeger.AttrSynthesized: "true", "guid:x-request-id": unsampled.RequestID})
	if span.Service() != jaeger.ServiceName || span.StatusCode != 2 || span.Name != "edge shop/checkout" {
		t.Errorf("synthesized span: service %q, status %d, name %q", span.Service(), span.StatusCode, span.Name)
	}

	// Phase 2: Jaeger down. Phase 3: up again, with empty storage.
	before := exporterCounts(t, s)
	j.Stop()
	down := envoy.send(t, gen, 1500, 0)
	waitQueueFull(t, s, queue, 30*time.Second)
	j.Restart()
	waitExported(t, s, 30*time.Second) // the queue drains into the new Jaeger
	up := envoy.send(t, gen, 100, 0)
	after := waitExported(t, s, 30*time.Second)

	sent := after.in - before.in
	dropped := after.dropped - before.dropped
	found, missingUp := 0, 0
	for phase, batch := range [][]*sim.Request{down, up} {
		for _, r := range candidates(edge, batch) {
			if _, err := j.Trace(t, traceHex(r.TraceID)); err == nil {
				found++
			} else if !errors.Is(err, jaegertest.ErrNotFound) {
				t.Fatal(err)
			} else if phase == 1 {
				missingUp++
			}
		}
	}
	t.Logf("with Jaeger down and back: %v spans to export, %d in Jaeger, %v dropped", sent, found, dropped)
	if dropped == 0 {
		t.Error("nothing was dropped while Jaeger was down: the test did not fill the queue")
	}
	if missing := sent - float64(found); missing != dropped {
		t.Errorf("%v spans missing from Jaeger, %v counted as dropped", missing, dropped)
	}
	if missingUp > 0 {
		t.Errorf("%d spans sent after Jaeger came back are missing from it", missingUp)
	}
}

// envoyClient sends access logs and spans as one Envoy node does.
type envoyClient struct {
	conn *grpc.ClientConn
	node string
}

func dialEnvoy(t *testing.T, addr string) *envoyClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &envoyClient{conn: conn, node: "edge-0"}
}

// send makes n requests and sends their access logs on one stream, then their spans, in
// flushes of 100 requests, pause apart; it returns the requests.
func (c *envoyClient) send(t *testing.T, gen *sim.Generator, n int, pause time.Duration) []*sim.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := alsv3.NewAccessLogServiceClient(c.conn).StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	traces := ptraceotlp.NewGRPCClient(c.conn)
	id := sim.Identifier(c.node, sim.DefaultNodeCluster, sim.LogName)
	var all []*sim.Request
	for done := 0; done < n; done += 100 {
		var entries []*accesslogv3.HTTPAccessLogEntry
		var reqs []*sim.Request
		for i := done; i < min(done+100, n); i++ {
			e := &accesslogv3.HTTPAccessLogEntry{}
			r := *gen.Next(e)
			entries, reqs = append(entries, e), append(reqs, &r)
		}
		if err := stream.Send(sim.Message(id, entries)); err != nil {
			t.Fatal(err)
		}
		id = nil
		if req := sim.SpanRequest(c.node, reqs); req.Traces().SpanCount() > 0 {
			if _, err := traces.Export(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, reqs...)
		time.Sleep(pause)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	return all
}

func find(reqs []*sim.Request, ok func(*sim.Request) bool) *sim.Request {
	for _, r := range reqs {
		if ok(r) {
			return r
		}
	}
	return nil
}

// candidates are the requests that may have a span in Jaeger: the sampled ones, and
// those that may have broken an objective of their route (a superset of the synthesized).
func candidates(edge *model.Edge, reqs []*sim.Request) []*sim.Request {
	var out []*sim.Request
	for _, r := range reqs {
		mr := edge.Route(r.RouteName)
		switch {
		case r.Sampled:
			out = append(out, r)
		case mr == nil || mr.SLO == nil || len(mr.SLO.Objectives) == 0:
		case r.Bad():
			out = append(out, r)
		default:
			for _, o := range mr.SLO.Objectives {
				if o.Indicator == model.Latency && r.Duration > o.Threshold-time.Millisecond {
					out = append(out, r)
					break
				}
			}
		}
	}
	return out
}

func traceHex(id [16]byte) string { return pcommon.TraceID(id).String() }

// traceSpan returns the one span of the trace, polling until Jaeger has it.
func traceSpan(t *testing.T, j *jaegertest.Jaeger, id [16]byte) jaegertest.Span {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans, err := j.Trace(t, traceHex(id))
		if err == nil && len(spans) == 1 {
			return spans[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: %v spans, err %v; want one span", traceHex(id), len(spans), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantAttrs(t *testing.T, s jaegertest.Span, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := s.Attr(k); got != v {
			t.Errorf("span %s: %s = %q, want %q", s.SpanID, k, got, v)
		}
	}
}

// counts are the exporter's totals: spans in (received and synthesized), out (exported
// and dropped), dropped, and now queued and pending.
type counts struct{ in, out, dropped, queued, pending float64 }

func exporterCounts(t *testing.T, s *sinktest.Sink) counts {
	t.Helper()
	fams := s.Scrape(t)
	v := func(name string, labels map[string]string) float64 {
		x, _ := sinktest.Value(fams, "edgetel_jaeger_"+name, labels)
		return x
	}
	sum := func(name, label string, values ...string) float64 {
		total := 0.0
		for _, val := range values {
			total += v(name, map[string]string{label: val})
		}
		return total
	}
	c := counts{
		in:      v("spans_received_total", nil) + v("spans_synthesized_total", nil),
		dropped: sum("spans_dropped_total", "reason", "queue_full", "not_running", "rejected", "retries_exhausted", "shutdown"),
		queued:  v("queue_spans", nil),
		pending: v("pending_spans", nil),
	}
	c.out = c.dropped + sum("spans_exported_total", "kind", "forwarded", "synthesized")
	return c
}

// waitExported waits until every span the exporter took is exported or dropped, and none
// waits for the join or in the queue.
func waitExported(t *testing.T, s *sinktest.Sink, d time.Duration) counts {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c := exporterCounts(t, s)
		if c.in > 0 && c.in == c.out && c.queued == 0 && c.pending == 0 {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not settle within %s: %+v", d, c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitQueueFull waits until nothing waits for the join and the export queue is full: all
// that was sent is queued, in a retried export, or dropped.
func waitQueueFull(t *testing.T, s *sinktest.Sink, queue float64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c := exporterCounts(t, s)
		if c.pending == 0 && c.queued == queue {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue did not fill within %s: %+v", d, c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
