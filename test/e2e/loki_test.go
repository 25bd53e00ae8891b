package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgetel/edgetel/als/loki"
	"github.com/edgetel/edgetel/internal/lokitest"
	"github.com/edgetel/edgetel/internal/promtest"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/sink"
)

// TestLokiHasEveryAccessLogLineTheSinkDidNotCountAsDropped runs the real Loki behind a sink
// fed by the simulated fleet. A LogQL query for a slow checkout request's trace ID returns its
// line, with the route and status class as labels. Then Loki stops while the fleet sends
// more, and starts again: lines flow again, and what the fleet sent minus what Loki has equals
// what the sink counted as dropped.
func TestLokiHasEveryAccessLogLineTheSinkDidNotCountAsDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Loki for ~30s")
	}
	lk := lokitest.Start(t)
	edge := exampleEdge(t)
	s := sinktest.StartWith(t, edge, sink.Config{Loki: loki.Config{
		URL: lk.URL, BatchBytes: 64 << 10, BatchWait: 100 * time.Millisecond,
		BufferLines: 1000, MinBackoff: 50 * time.Millisecond, MaxBackoff: 250 * time.Millisecond, MaxRetries: 200,
	}})

	// Start times from five minutes ago, so that every line is recent enough for Loki and none
	// is in its future: 6000 requests at 200/s span 30s of the fleet's clock.
	epoch := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	cfg := sim.DefaultConfig(edge)
	cfg.Address = s.Addr().String()
	cfg.Epoch = epoch
	cfg.Stats, cfg.Spans = false, false
	cfg.Incidents = []sim.Incident{{Route: "shop/checkout", Duration: time.Hour, ErrorRatio: 0.1, LatencyFactor: 4}}
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	send := func(n int) {
		t.Helper()
		if err := fleet.SendN(ctx, n); err != nil {
			t.Fatal(err)
		}
		if truth := fleet.Truth(); !truth.Exact() {
			t.Fatalf("the simulator's truth is not exact: %+v", truth)
		}
	}

	// In bursts the 1000-line buffer takes whole, so that nothing is dropped yet.
	for sent := 500; sent <= 2000; sent += 500 {
		send(500)
		lokiSettled(t, s, sent)
	}
	if n := lokiDrops(s.Scrape(t)); n != 0 {
		t.Fatalf("%v lines dropped with Loki up", n)
	}
	traceID, threshold := lokiSlowCheckoutTrace(t, fleet.Truth(), edge)
	promtest.Eventually(t, 20*time.Second, func() error {
		entries, err := lk.QueryRange(t, fmt.Sprintf(`{job="edgetel"} |= %q`, traceID), epoch.Add(-time.Minute), time.Now().Add(time.Hour))
		if err != nil {
			return err
		}
		if len(entries) != 1 {
			return fmt.Errorf("%d lines for trace %s, want 1", len(entries), traceID)
		}
		var line struct {
			TraceID    string  `json:"trace_id"`
			DurationMS float64 `json:"duration_ms"`
		}
		if err := json.Unmarshal([]byte(entries[0].Line), &line); err != nil {
			return fmt.Errorf("line %q: %w", entries[0].Line, err)
		}
		if line.DurationMS <= float64(threshold.Milliseconds()) {
			return fmt.Errorf("line %s is not over the %s threshold", entries[0].Line, threshold)
		}
		if l := entries[0].Labels; line.TraceID != traceID || l["route"] != "shop/checkout" || l["node_group"] != "edge" {
			return fmt.Errorf("line %s with labels %v, want trace %s on route shop/checkout", entries[0].Line, l, traceID)
		}
		t.Logf("trace %s: %s %v", traceID, entries[0].Line, entries[0].Labels)
		return nil
	})

	lk.Stop()
	send(3000)
	if n := lokiDrops(lokiAccounted(t, s, 5000, false)); n == 0 {
		t.Errorf("no line dropped while Loki was down with a 1000-line buffer")
	}
	lk.Restart()
	lokiSettled(t, s, 5000) // the buffered lines reach Loki once it is back
	dropsWhileDown := lokiDrops(s.Scrape(t))
	send(500)
	lokiSettled(t, s, 5500)
	send(500)
	fams := lokiSettled(t, s, 6000)

	sent := fleet.Truth().Sent
	inLoki := lokiCountLines(t, lk, edge, epoch)
	dropped := lokiDrops(fams)
	alsDropped := lokiSum(fams, "edgetel_als_entries_dropped_total")
	linesSent := lokiSum(fams, "edgetel_loki_lines_sent_total")
	t.Logf("fleet sent %d, Loki has %d, the exporter sent %v and dropped %v, the receiver dropped %v",
		sent, inLoki, linesSent, dropped, alsDropped)
	if float64(sent)-float64(inLoki) != dropped+alsDropped {
		t.Errorf("%d lines missing from Loki, %v counted as dropped", int(sent)-inLoki, dropped+alsDropped)
	}
	if float64(inLoki) != linesSent {
		t.Errorf("Loki has %d lines, the exporter counted %v as sent", inLoki, linesSent)
	}
	if d := lokiDrops(fams); d != dropsWhileDown {
		t.Errorf("%v lines dropped after Loki came back", d-dropsWhileDown)
	}
	if resumed := lokiLinesAfter(t, lk, epoch); resumed == 0 {
		t.Errorf("no line from after the restart reached Loki")
	}
}

// lokiSettled waits until the exporter has sent or dropped every one of n records and its
// buffer is empty, and returns the sink's metrics then.
func lokiSettled(t *testing.T, s *sinktest.Sink, n int) map[string]*dto.MetricFamily {
	return lokiAccounted(t, s, n, true)
}

// lokiAccounted waits until every one of n records is sent, dropped or, unless drained is
// set, buffered, and returns the sink's metrics then.
func lokiAccounted(t *testing.T, s *sinktest.Sink, n int, drained bool) map[string]*dto.MetricFamily {
	t.Helper()
	var fams map[string]*dto.MetricFamily
	promtest.Eventually(t, 30*time.Second, func() error {
		fams = s.Scrape(t)
		done := lokiSum(fams, "edgetel_loki_lines_sent_total") + lokiDrops(fams) + lokiSum(fams, "edgetel_als_entries_dropped_total")
		buffered := lokiSum(fams, "edgetel_loki_buffer_lines")
		if !drained {
			done += buffered
		}
		if done != float64(n) || drained && buffered != 0 {
			return fmt.Errorf("%v of %d records sent or dropped, %v buffered", done, n, buffered)
		}
		return nil
	})
	return fams
}

// lokiSlowCheckoutTrace returns the trace ID of a checkout request over its latency
// threshold, and the threshold.
func lokiSlowCheckoutTrace(t *testing.T, truth sim.Truth, edge *model.Edge) (string, time.Duration) {
	t.Helper()
	for _, o := range edge.Route("shop/checkout").SLO.Objectives {
		for id := range truth.Routes["shop/checkout"].Latency[o.Name].SlowTraceIDs {
			return id, o.Threshold
		}
	}
	t.Fatal("the simulator sent no slow checkout request")
	return "", 0
}

// lokiCountLines counts the lines in Loki stream by stream: each query stays under
// QueryRange's 5000-line limit.
func lokiCountLines(t *testing.T, lk *lokitest.Loki, edge *model.Edge, epoch time.Time) int {
	t.Helper()
	routes := []string{model.UnmatchedRoute}
	for _, r := range edge.Routes {
		routes = append(routes, r.Name)
	}
	total := 0
	for _, route := range routes {
		for _, class := range []string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"} {
			q := fmt.Sprintf(`{job="edgetel",route=%q,status_class=%q}`, route, class)
			entries, err := lk.QueryRange(t, q, epoch.Add(-time.Minute), time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) >= 5000 {
				t.Fatalf("%s: %d lines, at QueryRange's limit", q, len(entries))
			}
			total += len(entries)
		}
	}
	return total
}

// lokiLinesAfter counts lines of the last 1000 requests: the fleet's clock put them after the
// first 5000 (25s at 200/s).
func lokiLinesAfter(t *testing.T, lk *lokitest.Loki, epoch time.Time) int {
	t.Helper()
	entries, err := lk.QueryRange(t, `{job="edgetel",status_class="2xx"}`, epoch.Add(25*time.Second), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func lokiDrops(fams map[string]*dto.MetricFamily) float64 {
	return lokiSum(fams, "edgetel_loki_lines_dropped_total")
}

// lokiSum adds up every series of a counter or gauge family.
func lokiSum(fams map[string]*dto.MetricFamily, name string) float64 {
	total := 0.0
	if fam, ok := fams[name]; ok {
		for _, m := range fam.Metric {
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return total
}
