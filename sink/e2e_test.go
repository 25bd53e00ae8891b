package sink_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgetel/edgetel/internal/sinktest"
	edgemodel "github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
)

func TestEveryCounterEqualsWhatTheSimulatorSent(t *testing.T) {
	edge := sinktest.ExampleEdge(t)
	r := sinktest.Start(t, edge)
	cfg := sim.DefaultConfig(edge)
	cfg.Address = r.Addr().String()
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
	// The receiver counts an entry as received before it hands the batch on through a
	// queue, so wait for the accountant's own count: received == n still leaves the last
	// batch in flight.
	fams := r.ScrapeUntil(t, func(fams map[string]*dto.MetricFamily) bool {
		return sinktest.Sum(fams, "edgetel_requests_total") == n
	})
	if got, _ := sinktest.Value(fams, "edgetel_als_entries_received_total", map[string]string{"protocol": "http"}); got != n {
		t.Errorf("edgetel_als_entries_received_total is %v, the simulator sent %d", got, n)
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

func checkRoute(t *testing.T, fams map[string]*dto.MetricFamily, edge *edgemodel.Edge, route string, rt sim.RouteTruth) {
	t.Helper()
	requests := 0.0
	for _, class := range []string{"0", "1xx", "2xx", "3xx", "4xx", "5xx", "other"} {
		v, _ := sinktest.Value(fams, "edgetel_requests_total", map[string]string{"route": route, "code_class": class})
		requests += v
	}
	if requests != float64(rt.Requests) {
		t.Errorf("%s: edgetel_requests_total sums to %v, the simulator sent %d", route, requests, rt.Requests)
	}
	if v, _ := sinktest.Value(fams, "edgetel_requests_total", map[string]string{"route": route, "code_class": "5xx"}); v != float64(rt.Status5xx) {
		t.Errorf("%s: %v 5xx requests counted, the simulator sent %d", route, v, rt.Status5xx)
	}
	mr := edge.Route(route)
	if mr == nil || mr.SLO == nil {
		return
	}
	for _, o := range mr.SLO.Objectives {
		labels := map[string]string{"route": route, "objective": o.Name}
		events, _ := sinktest.Value(fams, "edgetel_slo_events_total", labels)
		good, _ := sinktest.Value(fams, "edgetel_slo_good_events_total", labels)
		wantGood := rt.Requests - rt.Bad
		if o.Indicator == edgemodel.Latency {
			wantGood = rt.Latency[o.Name].Good
		}
		if events != float64(rt.Requests) || good != float64(wantGood) {
			t.Errorf("%s %s: %v events %v good, the simulator sent %d events %d good",
				route, o.Name, events, good, rt.Requests, wantGood)
		}
	}
}

func TestReadyzSaysTheSinkIsReady(t *testing.T) {
	r := sinktest.Start(t, sinktest.ExampleEdge(t))
	resp, err := http.Get(fmt.Sprintf("http://%s/readyz", r.HTTP.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz answered %d", resp.StatusCode)
	}
}
