package sink_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/internal/serve"
	edgemodel "github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/sink"
)

// exampleEdge compiles the embedded example policies.
func exampleEdge(t testing.TB) *edgemodel.Edge {
	t.Helper()
	ps, err := config.NewDir(examples.Policies(), "examples").Load()
	if err != nil {
		t.Fatal(err)
	}
	out := config.Compile(config.Input{Policies: ps})
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	return out.Edge
}

// running is a sink with its HTTP port, as `edgetel sink` runs it.
type running struct {
	sink *sink.Sink
	http *serve.HTTP
}

func startSink(t testing.TB, edge *edgemodel.Edge) *running {
	t.Helper()
	s, err := sink.New(sink.Config{GRPCAddr: "127.0.0.1:0"}, edge, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collectors()...)
	h := serve.NewHTTP("127.0.0.1:0", reg)
	h.AddReadyCheck("sink", s.Ready)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		_ = s.Shutdown(ctx)
	})
	return &running{sink: s, http: h}
}

// scrape reads /metrics as Prometheus would, in the OpenMetrics format.
func (r *running) scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.http.Addr().String()+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("content type %q, want OpenMetrics", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	// The text parser reads the Prometheus format; OpenMetrics adds only what it can skip
	// here (exemplars and # EOF), so strip those and parse the rest.
	fams, err := parser.TextToMetricFamilies(strings.NewReader(promText(string(body))))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

func promText(om string) string {
	var b strings.Builder
	for _, line := range strings.Split(om, "\n") {
		if line == "# EOF" || strings.HasPrefix(line, "# UNIT") || strings.Contains(line, "_created") {
			continue
		}
		if i := strings.Index(line, " # {"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// value returns the counter or gauge with the given labels.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.Metric {
		for _, lp := range m.Label {
			if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func TestEveryCounterEqualsWhatTheSimulatorSent(t *testing.T) {
	edge := exampleEdge(t)
	r := startSink(t, edge)
	cfg := sim.DefaultConfig(edge)
	cfg.Address = r.sink.Addr().String()
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
	var fams map[string]*dto.MetricFamily
	// The receiver hands batches on through a queue: wait until the last one is counted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams = r.scrape(t)
		got, _ := value(fams, "edgetel_als_entries_received_total", map[string]string{"protocol": "http"})
		if got == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
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
		v, _ := value(fams, "edgetel_requests_total", map[string]string{"route": route, "code_class": class})
		requests += v
	}
	if requests != float64(rt.Requests) {
		t.Errorf("%s: edgetel_requests_total sums to %v, the simulator sent %d", route, requests, rt.Requests)
	}
	if v, _ := value(fams, "edgetel_requests_total", map[string]string{"route": route, "code_class": "5xx"}); v != float64(rt.Status5xx) {
		t.Errorf("%s: %v 5xx requests counted, the simulator sent %d", route, v, rt.Status5xx)
	}
	mr := edge.Route(route)
	if mr == nil || mr.SLO == nil {
		return
	}
	for _, o := range mr.SLO.Objectives {
		labels := map[string]string{"route": route, "objective": o.Name}
		events, _ := value(fams, "edgetel_slo_events_total", labels)
		good, _ := value(fams, "edgetel_slo_good_events_total", labels)
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
	r := startSink(t, exampleEdge(t))
	resp, err := http.Get(fmt.Sprintf("http://%s/readyz", r.http.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz answered %d", resp.StatusCode)
	}
}
