package sink_test

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/sim"
)

// The same traffic as TestEveryCounterEqualsWhatTheSimulatorSent, sent by Envoy's
// OpenTelemetry access logger instead of its gRPC one: every SLI counter must come out the
// same, so that a user can pick either logger.
func TestAccessLogsSentAsOTLPLogsCountExactlyWhatTheSimulatorSent(t *testing.T) {
	edge := sinktest.ExampleEdge(t)
	r := sinktest.Start(t, edge)
	cfg := sim.DefaultConfig(edge)
	cfg.Address = r.Addr().String()
	cfg.AccessLogProtocol = sim.OTLPProtocol
	cfg.Incidents = []sim.Incident{{Route: "shop/checkout", Start: 0, Duration: time.Hour, ErrorRatio: 0.2, LatencyFactor: 4}}
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 20000
	if err := fleet.SendN(ctx, n); err != nil {
		t.Fatal(err)
	}
	truth := fleet.Truth()
	if !truth.Exact() || truth.Sent != n {
		t.Fatalf("the simulator's truth is not exact: %+v", truth)
	}
	// The receiver hands batches on through a queue: wait until the last one is delivered.
	fams := r.ScrapeUntil(t, func(fams map[string]*dto.MetricFamily) bool {
		got, _ := sinktest.Value(fams, "edgetel_otlp_logs_records_delivered_total", nil)
		return got == n
	})
	for name, want := range map[string]float64{
		"edgetel_otlp_logs_records_received_total":   n,
		"edgetel_otlp_logs_records_delivered_total":  n,
		"edgetel_otlp_logs_requests_malformed_total": 0,
	} {
		if got, _ := sinktest.Value(fams, name, nil); got != want {
			t.Errorf("%s is %v, want %v", name, got, want)
		}
	}
	if got, _ := sinktest.Value(fams, "edgetel_als_entries_received_total", map[string]string{"protocol": "http"}); got != 0 {
		t.Errorf("%v entries came over ALS, want none", got)
	}
	var total uint64
	for route, rt := range truth.Routes {
		total += rt.Requests
		checkRoute(t, fams, edge, route, rt)
	}
	t.Logf("%d requests over %d routes checked, checkout: %+v", total, len(truth.Routes), truth.Routes["shop/checkout"].Bad)
	if total != n {
		t.Errorf("the truth's routes add up to %d requests, want %d", total, n)
	}
}
