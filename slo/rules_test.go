package slo

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/model"
)

// rulesDir holds the rule cases: <case>.in.yaml policies, and the goldens
// <case>.rules.out.yaml (the rule file) and <case>.prometheusrule.out.yaml.
const rulesDir = "testdata/rules"

// ruleCases compiles every <case>.in.yaml of rulesDir, plus the embedded example set as
// case "examples".
func ruleCases(t *testing.T) map[string]*model.Edge {
	t.Helper()
	ins, err := filepath.Glob(filepath.Join(rulesDir, "*.in.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no rule cases in %s: %v", rulesDir, err)
	}
	cases := map[string]*model.Edge{}
	for _, in := range ins {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		policies, err := config.Decode(in, data)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		cases[strings.TrimSuffix(filepath.Base(in), ".in.yaml")] = compilePolicies(t, policies)
	}
	policies, err := config.NewDir(examples.Policies(), "examples/policies").Load()
	if err != nil {
		t.Fatal(err)
	}
	cases["examples"] = compilePolicies(t, policies)
	return cases
}

func compilePolicies(t *testing.T, policies []config.Policy) *model.Edge {
	t.Helper()
	out := config.Compile(config.Input{Policies: policies})
	if err := out.Err(); err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return out.Edge
}

// TestRulesGolden compares the rule file and the PrometheusRule of every case with its
// goldens; -update rewrites them and removes those of cases that are gone.
func TestRulesGolden(t *testing.T) {
	written := map[string]bool{}
	for name, e := range ruleCases(t) {
		f, err := Rules(e, RuleOptions{})
		if err != nil {
			t.Fatalf("%s: Rules: %v", name, err)
		}
		plain, err := f.YAML()
		if err != nil {
			t.Fatal(err)
		}
		pr, err := f.PrometheusRule(PrometheusRuleMeta{Namespace: "monitoring",
			Labels: map[string]string{"release": "prometheus"}})
		if err != nil {
			t.Fatal(err)
		}
		for kind, got := range map[string][]byte{"rules": plain, "prometheusrule": pr} {
			path := filepath.Join(rulesDir, name+"."+kind+".out.yaml")
			written[path] = true
			checkRulesGolden(t, path, got)
		}
	}
	staleGoldens(t, filepath.Join(rulesDir, "*.out.yaml"), written)
}

// checkRulesGolden compares got with the golden at path, or rewrites it with -update.
func checkRulesGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./slo/ -run Golden -update creates it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./slo/ -update rewrites it):\n%s", path, diff)
	}
}

// staleGoldens fails on a golden matching glob that no case wrote, or removes it with
// -update: a golden that nothing checks would only mislead its reader.
func staleGoldens(t *testing.T, glob string, written map[string]bool) {
	t.Helper()
	paths, _ := filepath.Glob(glob)
	for _, p := range paths {
		switch {
		case written[p]:
		case *update:
			if err := os.Remove(p); err != nil {
				t.Error(err)
			}
		default:
			t.Errorf("%s is a golden of no case (go test ./slo/ -update removes it)", p)
		}
	}
}

func TestBurnRateFactors(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name   string
		window time.Duration
		want   []float64 // page 1h, page 6h, ticket 1d, ticket 3d
	}{
		{"an SLO with a 30d window pages at 14.4× as in the workbook", 30 * day, []float64{14.4, 6, 3, 1}},
		{"an SLO with a 28d window pages at 13.44×", 28 * day, []float64{13.44, 5.6, 2.8, 0.9333}},
		{"an SLO with a 7d window pages at 3.36×", 7 * day, []float64{3.36, 1.4, 0.7, 0.2333}},
		{"an SLO with a 90d window pages at 43.2×", 90 * day, []float64{43.2, 18, 9, 3}},
		{"an SLO with a 3d window keeps its 3d ticket, at 0.1×", 3 * day, []float64{1.44, 0.6, 0.3, 0.1}},
		{"an SLO with a 12h window has no ticket alerts", 12 * time.Hour, []float64{0.24, 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []float64
			for _, p := range AlertPairs(tc.window) {
				got = append(got, p.Factor)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("factors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordNamesUseTheSinkWindowLabels(t *testing.T) {
	for k, w := range Windows {
		if got, want := ErrorRatioRecord(w), "edgetel:slo_error_ratio:rate"+windowLabels[k]; got != want {
			t.Errorf("ErrorRatioRecord(%v) = %s, want %s", w, got, want)
		}
	}
	if got := BurnRateRecord(28 * 24 * time.Hour); got != "edgetel:slo_burn_rate:rate28d" {
		t.Errorf("BurnRateRecord(28d) = %s", got)
	}
}

func TestDurationsAreWrittenAsPrometheusReadsThem(t *testing.T) {
	for _, tc := range []struct {
		d              time.Duration
		window, interv string
	}{
		{5 * time.Minute, "5m", "5m"},
		{28 * 24 * time.Hour, "28d", "28d"},
		{36 * time.Hour, "36h", "1d12h"},
		{150 * time.Second, "150s", "2m30s"},
		{1500 * time.Millisecond, "1500ms", "1s500ms"},
	} {
		if got := PromDuration(tc.d); got != tc.window {
			t.Errorf("PromDuration(%v) = %s, want %s", tc.d, got, tc.window)
		}
		if got := promInterval(tc.d); got != tc.interv {
			t.Errorf("promInterval(%v) = %s, want %s", tc.d, got, tc.interv)
		}
	}
}

func TestRouteDashboardUID(t *testing.T) {
	long := "a-namespace-with-a-long-name/and-a-route-name-that-goes-on"
	for _, tc := range []struct{ name, route, want string }{
		{"a short route name is kept readable", "shop/checkout", "edgetel-shop_checkout"},
		{"dots and the slash become underscores", "shop/v1.api", "edgetel-shop_v1_api"},
		{"a long name is cut and hashed to 40 characters", long, "edgetel-a-namespace-with-a-long-" + uidHash(long)},
		{"a name with characters Grafana does not take is hashed", "Shop/Cart", "edgetel-hop_art-" + uidHash("Shop/Cart")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RouteDashboardUID(tc.route)
			if got != tc.want || len(got) > 40 {
				t.Errorf("RouteDashboardUID(%q) = %q (%d), want %q", tc.route, got, len(got), tc.want)
			}
		})
	}
}

// TestEveryRuleExpressionParses parses every expression of every case with the PromQL
// parser (Rules checks them too: this keeps the check from being dropped there) and
// checks that every rate() is summed by route and objective before any division, so that
// no ratio is ever taken per sink replica.
func TestEveryRuleExpressionParses(t *testing.T) {
	for name, e := range ruleCases(t) {
		f, err := Rules(e, RuleOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, s := range f.Exprs() {
			expr, err := parser.ParseExpr(s)
			if err != nil {
				t.Errorf("%s: %v\n%s", name, err, s)
				continue
			}
			checkRatesSummed(t, expr)
		}
	}
}

func checkRatesSummed(t *testing.T, expr parser.Expr) {
	t.Helper()
	parser.Inspect(expr, func(n parser.Node, path []parser.Node) error {
		call, ok := n.(*parser.Call)
		if !ok || call.Func.Name != "rate" {
			return nil
		}
		agg, ok := parent(path).(*parser.AggregateExpr)
		if !ok || agg.Op != parser.SUM || agg.Without || !slices.Equal(agg.Grouping, []string{"route", "objective"}) {
			t.Errorf("%s is not summed by (route, objective) in %s", call, expr)
		}
		return nil
	})
}

// parent is the nearest ancestor in path that is not a parenthesis.
func parent(path []parser.Node) parser.Node {
	for i := len(path) - 1; i >= 0; i-- {
		if _, ok := path[i].(*parser.ParenExpr); !ok {
			return path[i]
		}
	}
	return nil
}

func TestRulesOfARouteWithoutObjectivesAreNone(t *testing.T) {
	e := &model.Edge{Routes: []model.Route{{Name: "shop/static"}}}
	f, err := Rules(e, RuleOptions{})
	if err != nil || len(f.Groups) != 0 {
		t.Fatalf("Rules = %+v, %v; want no groups", f, err)
	}
	b, _ := f.YAML()
	if string(b) != "groups: []\n" {
		t.Errorf("YAML = %q, want an empty rule file Prometheus loads", b)
	}
}

func uidHash(route string) string {
	uid := RouteDashboardUID(route)
	return uid[len(uid)-8:]
}
