package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als/loki"
	"github.com/edgetel/edgetel/internal/jaegertest"
	"github.com/edgetel/edgetel/internal/lokitest"
	"github.com/edgetel/edgetel/internal/promtest"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/sink"
	"github.com/edgetel/edgetel/tracing/jaeger"
)

// TestASlowRequestLeadsFromItsExemplarToItsTraceAndItsLogLine is the chain Jane clicks
// through, on the real Prometheus, Jaeger and Loki: an exemplar on a slow bucket of
// checkout's latency histogram holds a trace ID; Jaeger returns that trace with the
// attributes the sink added; a LogQL query for the trace ID returns the access-log line.
func TestASlowRequestLeadsFromItsExemplarToItsTraceAndItsLogLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus, Loki and Jaeger")
	}
	edge := exampleEdge(t)
	j := jaegertest.Start(t)
	lk := lokitest.Start(t)
	s := sinktest.StartWith(t, edge, sink.Config{
		Join:   join.Config{Window: 2 * time.Second},
		Jaeger: jaeger.Config{Endpoint: j.OTLPAddr, Window: 4 * time.Second},
		Loki:   loki.Config{URL: lk.URL, BatchWait: 100 * time.Millisecond},
	})
	prom := promtest.Start(t, promtest.Options{Targets: []string{s.HTTP.Addr().String()}})

	cfg := sim.DefaultConfig(edge)
	cfg.Address = s.Addr().String()
	cfg.Epoch = time.Now().Add(-2 * time.Minute)
	cfg.Incidents = []sim.Incident{{Route: "shop/checkout", Duration: time.Hour, ErrorRatio: 0.2, LatencyFactor: 4}}
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fleet.SendN(ctx, 5000); err != nil {
		t.Fatal(err)
	}

	traceID := slowExemplar(t, prom)
	t.Logf("exemplar trace_id %s", traceID)

	var spans []jaegertest.Span
	promtest.Eventually(t, 30*time.Second, func() error {
		spans, err = j.Trace(t, traceID)
		if err == nil && len(spans) == 0 {
			err = fmt.Errorf("trace %s has no spans", traceID)
		}
		return err
	})
	if got := spans[0].Attr(jaeger.AttrRoute); got != "shop/checkout" {
		t.Errorf("the trace's span has %s=%q, want shop/checkout", jaeger.AttrRoute, got)
	}

	promtest.Eventually(t, 30*time.Second, func() error {
		lines, err := lk.QueryRange(t, fmt.Sprintf(`{job="edgetel"} |= %q`, traceID), cfg.Epoch.Add(-time.Minute), time.Now().Add(time.Minute))
		if err != nil {
			return err
		}
		if len(lines) != 1 || lines[0].Labels["route"] != "shop/checkout" {
			return fmt.Errorf("LogQL for trace %s returned %+v, want checkout's one line", traceID, lines)
		}
		return nil
	})
}

// slowExemplar returns the trace ID of an exemplar on checkout's latency histogram above its
// 300ms threshold.
func slowExemplar(t *testing.T, prom *promtest.Server) string {
	t.Helper()
	var id string
	promtest.Eventually(t, 30*time.Second, func() error {
		exemplars, err := prom.QueryExemplars(`edgetel_request_duration_seconds_bucket{route="shop/checkout"}`, 10*time.Minute)
		if err != nil {
			return err
		}
		for _, e := range exemplars {
			if b, err := hex.DecodeString(e.Labels["trace_id"]); err == nil && len(b) == 16 && e.Value > 0.3 {
				id = e.Labels["trace_id"]
				return nil
			}
		}
		return fmt.Errorf("no exemplar over 300ms among %d", len(exemplars))
	})
	return id
}
