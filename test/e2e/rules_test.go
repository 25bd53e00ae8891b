package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/dashboards"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/internal/promtest"
	"github.com/edgetel/edgetel/internal/serve"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/sink"
	"github.com/edgetel/edgetel/slo"
)

// TestGeneratedRulesAndDashboardsOnRealPrometheus runs the real Prometheus with the rules
// generated for the example policies, scraping a sink that a simulated fleet feeds with
// steady traffic in real time. Every dashboard query returns data, and the sink's own burn
// rates agree with the recording rules' within 1% over every window that has filled.
//
// Windows fill in real time, so the test waits out the 5m window: about 5.5 minutes. The
// traffic is steady on purpose: PromQL's rate() sees a window from its first scrape in it
// to its last, and with an error ratio that steps it is off by up to ~6% over 5m (see
// docs/metrics.md); with a steady one both compute the same ratio, and the 1% bound tests
// the rules rather than rate()'s edges.
func TestGeneratedRulesAndDashboardsOnRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 5.5 minutes of real time for the 5m window to fill")
	}
	edge := rulesTestEdge(t)
	addr, metrics := startRulesSink(t, edge)
	prom := promtest.Start(t, promtest.Options{
		Targets: []string{metrics}, ScrapeInterval: time.Second, EvaluationInterval: time.Second,
		RuleFiles: []string{writeRuleFile(t, edge)},
	})
	promtest.Eventually(t, 30*time.Second, func() error { return rulesHasData(prom, "edgetel_slo_events_total") })
	trafficStart := time.Now()
	startSteadyFleet(t, edge, addr)

	t.Run("every dashboard query returns data", func(t *testing.T) {
		checkDashboardQueries(t, prom, edge)
	})
	t.Run("the sink's burn rates and the rules' agree within 1% over every filled window", func(t *testing.T) {
		fill := trafficStart.Add(slo.Windows[0] + 5*time.Second)
		t.Logf("waiting %v for the 5m window to fill with traffic", time.Until(fill).Round(time.Second))
		time.Sleep(time.Until(fill))
		for range 5 {
			compareBurnRates(t, prom)
			time.Sleep(2 * time.Second)
		}
	})
}

func rulesTestEdge(t *testing.T) *model.Edge {
	t.Helper()
	ps, err := config.NewDir(examples.Policies(), "examples/policies").Load()
	if err != nil {
		t.Fatal(err)
	}
	out := config.Compile(config.Input{Policies: ps})
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	return out.Edge
}

// startRulesSink runs the sink as `edgetel sink` does and returns its gRPC and HTTP addresses.
func startRulesSink(t *testing.T, edge *model.Edge) (grpcAddr, httpAddr string) {
	t.Helper()
	s, err := sink.New(sink.Config{GRPCAddr: "127.0.0.1:0"}, edge, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collectors()...)
	h := serve.NewHTTP("127.0.0.1:0", reg)
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
	return s.Addr().String(), h.Addr().String()
}

// writeRuleFile writes the generated rules; the budget group runs every second, so that the
// dashboards' budget panels have data within the test.
func writeRuleFile(t *testing.T, edge *model.Edge) string {
	t.Helper()
	f, err := slo.Rules(edge, slo.RuleOptions{BudgetInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.YAML()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "edgetel-rules.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startSteadyFleet sends 1,000 requests a second in real time, without incidents: every
// route fails 10% of its requests and has its median latency at its highest latency
// threshold (so at least half the requests are over each threshold). The ratios are high on
// purpose: the traffic is random, and the more bad events a 5m window holds, the less the
// few at its edges, which PromQL and the sink cut a little differently, move its ratio.
func startSteadyFleet(t *testing.T, edge *model.Edge, addr string) {
	t.Helper()
	cfg := sim.DefaultConfig(edge)
	cfg.Address, cfg.Clock, cfg.Rate, cfg.Incidents = addr, sim.RealTime, 1000, nil
	cfg.Profiles = map[string]sim.Profile{}
	for _, r := range edge.Routes {
		p := sim.DefaultProfile(r)
		p.ErrorRatio = 0.1
		var median time.Duration
		for _, o := range r.SLO.Objectives {
			if o.Indicator == model.Latency {
				median = max(median, o.Threshold)
			}
		}
		if median > 0 {
			p.Median = median
		}
		cfg.Profiles[r.Name] = p
	}
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = fleet.Shutdown(ctx)
	})
}

// checkDashboardQueries runs every Prometheus query of every generated dashboard until each
// returns data, the Envoy stats' too (the simulated fleet sends them).
func checkDashboardQueries(t *testing.T, prom *promtest.Server, edge *model.Edge) {
	ds, err := dashboards.Generate(edge, dashboards.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var queries []dashboards.Query
	for _, d := range ds {
		for _, q := range d.Queries() {
			switch {
			case q.Datasource != "prometheus":
			default:
				q.Expr = strings.ReplaceAll(q.Expr, dashboards.RateInterval, "1m")
				queries = append(queries, q)
			}
		}
	}
	promtest.Eventually(t, 90*time.Second, func() error {
		var missing []string
		for _, q := range queries {
			if err := rulesHasData(prom, q.Expr); err != nil {
				missing = append(missing, fmt.Sprintf("%q %s: %v", q.Panel, q.RefID, err))
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%d of %d queries have no data:\n%s", len(missing), len(queries), strings.Join(missing, "\n"))
		}
		return nil
	})
	checkExemplars(t, prom, queries)
	t.Logf("%d queries returned data", len(queries))
}

// checkExemplars checks that the latency panels, which show exemplars, get some with a
// trace_id, the label their Jaeger link reads.
func checkExemplars(t *testing.T, prom *promtest.Server, queries []dashboards.Query) {
	for _, q := range queries {
		if !q.Exemplars {
			continue
		}
		ex, err := prom.QueryExemplars(q.Expr, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ex {
			if len(e.Labels["trace_id"]) == 32 {
				return
			}
		}
	}
	t.Error("no latency panel's query has an exemplar with a trace_id")
}

func rulesHasData(prom *promtest.Server, expr string) error {
	res, err := prom.Query(expr)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return fmt.Errorf("no samples")
	}
	return nil
}

// compareBurnRates compares, for every route objective, the sink's burn-rate gauge with the
// recorded burn rate over each window the sink says has filled.
func compareBurnRates(t *testing.T, prom *promtest.Server) {
	t.Helper()
	for k, w := range slo.Windows {
		label := slo.PromDuration(w)
		filled := fmt.Sprintf(`(time() - edgetel_slo_accounting_start_timestamp_seconds) >= %g`, w.Seconds())
		sinkRates := rulesVector(t, prom, fmt.Sprintf(`max by (route, objective) (edgetel_slo_burn_rate{window=%q})
			and on (route, objective) (%s)`, label, filled))
		ruleRates := rulesVector(t, prom, slo.BurnRateRecord(w))
		if k == 0 && len(sinkRates) == 0 {
			t.Fatal("the 5m window has not filled")
		}
		worst, at := 0.0, ""
		for key, got := range sinkRates {
			want, ok := ruleRates[key]
			if !ok || got == 0 || want == 0 {
				t.Errorf("%s over %s: sink %v, rules %v (present: %v): no traffic?", key, label, got, want, ok)
				continue
			}
			d := math.Abs(got-want) / want
			if d > 0.01 {
				t.Errorf("%s over %s: the sink's burn rate %.4f and the rules' %.4f differ by %.2f%%", key, label, got, want, d*100)
			}
			if d >= worst {
				worst, at = d, fmt.Sprintf("%s (sink %.4f, rules %.4f)", key, got, want)
			}
		}
		if len(sinkRates) > 0 {
			t.Logf("over %s, %d objectives: worst difference %.3f%%, %s", label, len(sinkRates), worst*100, at)
		}
	}
}

func rulesVector(t *testing.T, prom *promtest.Server, expr string) map[string]float64 {
	t.Helper()
	res, err := prom.Query(expr)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, s := range res {
		out[s.Metric["route"]+" "+s.Metric["objective"]] = s.Value
	}
	return out
}
