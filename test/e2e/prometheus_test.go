package e2e

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/edgetel/edgetel/internal/promtest"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
)

// TestPrometheusSeesWhatTheSimulatorSent runs the real Prometheus against a sink fed by the
// simulated fleet: the counters it scrapes equal the simulator's truth, a PromQL ratio of
// rates over them equals the simulator's error ratios, and its exemplars hold trace IDs the
// simulator used for slow requests.
func TestPrometheusSeesWhatTheSimulatorSent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus for ~15s")
	}
	edge := exampleEdge(t)
	s := startSink(t, edge)
	prom := promtest.Start(t, promtest.Options{Targets: []string{s.HTTP.Addr().String()}})

	// Let Prometheus take a scrape before any traffic, so that every counter's first sample is
	// 0: then rate()'s extrapolation is the same for every series and ratios of rates are exact.
	promtest.Eventually(t, 30*time.Second, func() error {
		return expect(prom, `count(edgetel_slo_events_total)`, 0, func(v float64) bool { return v > 0 })
	})

	cfg := sim.DefaultConfig(edge)
	cfg.Address = s.Addr().String()
	cfg.Incidents = []sim.Incident{{Route: "shop/checkout", Duration: time.Hour, ErrorRatio: 0.2, LatencyFactor: 4}}
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fleet.SendN(ctx, 20000); err != nil {
		t.Fatal(err)
	}
	truth := fleet.Truth()

	checkout := truth.Routes["shop/checkout"]
	promtest.Eventually(t, 30*time.Second, func() error {
		return expect(prom, `sum(edgetel_slo_events_total{route="shop/checkout",objective="availability"})`,
			float64(checkout.Requests), nil)
	})
	for _, r := range edge.Routes {
		rt := truth.Routes[r.Name]
		for _, o := range r.SLO.Objectives {
			want := float64(rt.Requests-rt.Bad) / float64(rt.Requests)
			if o.Indicator == model.Latency {
				want = float64(rt.Latency[o.Name].Good) / float64(rt.Requests)
			}
			sel := fmt.Sprintf(`{route=%q,objective=%q}`, r.Name, o.Name)
			q := fmt.Sprintf(`sum(rate(edgetel_slo_good_events_total%s[1m])) / sum(rate(edgetel_slo_events_total%s[1m]))`, sel, sel)
			if err := expect(prom, q, want, nil); err != nil {
				t.Error(err)
			}
		}
	}

	exemplars, err := prom.QueryExemplars(`edgetel_request_duration_seconds_bucket{route="shop/checkout"}`, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	slow := checkout.Latency["latency"].SlowTraceIDs
	found := 0
	for _, e := range exemplars {
		if _, ok := slow[e.Labels["trace_id"]]; ok && e.Value > 0.3 {
			found++
		}
	}
	if found == 0 {
		t.Errorf("none of %d exemplars on checkout's slow buckets holds a trace ID the simulator used for a slow request", len(exemplars))
	}
	t.Logf("%d of %d exemplars are slow checkout requests the simulator sent", found, len(exemplars))
}

// expect evaluates q, which must return one sample, equal to want within 1e-9 relative (or
// satisfying ok, when given).
func expect(prom *promtest.Server, q string, want float64, ok func(float64) bool) error {
	res, err := prom.Query(q)
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return fmt.Errorf("%s: %d samples, want 1", q, len(res))
	}
	got := res[0].Value
	if ok != nil {
		if !ok(got) {
			return fmt.Errorf("%s = %v", q, got)
		}
		return nil
	}
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		return fmt.Errorf("%s = %v, want %v", q, got, want)
	}
	return nil
}
