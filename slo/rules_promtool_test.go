package slo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edgetel/edgetel/internal/testenv"
)

// suitesDir holds the promtool suites; their rule file is the burn case's golden.
const suitesDir = rulesDir + "/promtool"

// TestPromtoolChecksEveryGeneratedRuleFile runs promtool check rules on every rule golden
// and on the groups of every PrometheusRule golden.
func TestPromtoolChecksEveryGeneratedRuleFile(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	files, _ := filepath.Glob(filepath.Join(rulesDir, "*.rules.out.yaml"))
	objects, _ := filepath.Glob(filepath.Join(rulesDir, "*.prometheusrule.out.yaml"))
	for _, obj := range objects {
		files = append(files, ruleSpecFile(t, obj))
	}
	if len(files) < 2 {
		t.Fatalf("no rule goldens in %s", rulesDir)
	}
	out, err := exec.Command(promtool, append([]string{"check", "rules"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// ruleSpecFile writes the spec of a PrometheusRule to a rule file of its own.
func ruleSpecFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Kind string    `yaml:"kind"`
		Spec yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &obj); err != nil || obj.Kind != "PrometheusRule" {
		t.Fatalf("%s: kind %q: %v", path, obj.Kind, err)
	}
	spec, err := yaml.Marshal(&obj.Spec)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPromtoolRuleSuites checks each scenario against the workbook's arithmetic, compares
// its suite with the one in testdata (rewritten with -update), and runs it with promtool.
func TestPromtoolRuleSuites(t *testing.T) {
	if testing.Short() {
		t.Skip("promtool evaluates four days of rules, ~25s")
	}
	promtool := testenv.Tool(t, "promtool")
	written := map[string]bool{}
	for _, s := range ruleScenarios {
		path := filepath.Join(suitesDir, s.name+".test.yaml")
		written[path] = true
		t.Run(s.title, func(t *testing.T) {
			o := newOracle(&s)
			checkPredictions(t, &s, o)
			checkRulesGolden(t, path, s.suite(o))
			start := time.Now()
			out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool test rules %s: %v\n%s", path, err, out)
			}
			t.Logf("promtool ran %s of traffic in %v", s.end(), time.Since(start).Round(time.Millisecond))
		})
	}
	staleGoldens(t, filepath.Join(suitesDir, "*.test.yaml"), written)
}

// checkPredictions holds the scenario to what it says: each alert the workbook predicts
// fires within one evaluation of the predicted time, and the severities it rules out never
// fire.
func checkPredictions(t *testing.T, s *scenario, o *oracle) {
	t.Helper()
	for _, p := range s.predict {
		from := s.phaseStart(p.phase)
		got := o.firstFiring(p.long, from, s.end(), s.eval)
		if want := from + p.after; got < want-s.eval || got > want+s.eval {
			t.Errorf("the %s alert fires at %v, the workbook says %v", PromDuration(p.long), got, want)
		}
	}
	for t0 := time.Duration(0); t0 <= s.end(); t0 += s.eval {
		for _, p := range o.firing(t0) {
			if slices.Contains(s.never, p.Severity) {
				t.Fatalf("a %s (%s) fires at %v", p.Severity, PromDuration(p.Long), t0)
			}
		}
	}
}

// suite writes the scenario as a promtool test file.
func (s *scenario) suite(o *oracle) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s.\n#\n", capitalize(s.title))
	for _, l := range s.about {
		fmt.Fprintf(&b, "# %s\n", l)
	}
	b.WriteString("#\n# Generated from ruleScenarios (slo/rules_suites_test.go) by TestPromtoolRuleSuites;\n" +
		"# go test ./slo/ -run PromtoolRuleSuites -update rewrites it. The checks are where the\n" +
		"# scenario's oracle says the alerts change, two evaluations either side.\n")
	fmt.Fprintf(&b, "rule_files:\n  - ../burn.rules.out.yaml\nevaluation_interval: %s\ntests:\n", minutes(s.eval))
	fmt.Fprintf(&b, "  - name: %s\n    interval: %s\n    input_series:\n", s.title, minutes(sampleStep))
	for r, inst := range replicas {
		for _, c := range []string{"events", "good_events"} {
			fmt.Fprintf(&b, "      - series: 'edgetel_slo_%s_total{instance=%q, job=\"edgetel\", objective=\"availability\", route=\"shop/checkout\"}'\n", c, inst)
			fmt.Fprintf(&b, "        values: '%s'\n", s.values(r, c == "good_events"))
		}
	}
	b.WriteString("    promql_expr_test:\n")
	for _, at := range o.checkTimes(s.end(), s.eval) {
		s.writeAlertCheck(&b, at, o.firing(at))
	}
	for _, c := range s.extra {
		if c.burnWindow > 0 {
			v, robust := c.value(o)
			if !robust {
				panic(fmt.Sprintf("%s at %v: Prometheus 2 and 3 differ; check it where they agree", c.expr, c.at))
			}
			c.samples = []string{fmt.Sprintf(`{objective="availability", route="shop/checkout"} %.0f`, v)}
		}
		writeExprCheck(&b, c.expr, c.at, c.samples)
	}
	if s.annotateAt > 0 {
		writeAnnotated(&b, s.annotateAt, o.firing(s.annotateAt))
	}
	return []byte(b.String())
}

// values is one replica's counter in promtool's expanding notation, a segment per phase.
func (s *scenario) values(replica int, good bool) string {
	parts := []string{"0"}
	last := 0
	for _, p := range s.phases {
		inc := p.events[replica]
		if good {
			inc -= p.bad[replica]
		}
		n := int(p.dur / sampleStep)
		parts = append(parts, fmt.Sprintf("%d+%dx%d", last+inc, inc, n-1))
		last += n * inc
	}
	return strings.Join(parts, " ")
}

func (s *scenario) writeAlertCheck(b *strings.Builder, at time.Duration, firing []AlertPair) {
	var alerts []string
	for _, p := range firing {
		alerts = append(alerts, fmt.Sprintf(`ALERTS{alertname=%q, alertstate="firing", long_window=%q, objective="availability", route="shop/checkout", severity=%q, short_window=%q} 1`,
			AlertName, PromDuration(p.Long), p.Severity, PromDuration(p.Short)))
	}
	writeExprCheck(b, `ALERTS{alertstate="firing"}`, at, alerts)
	writeExprCheck(b, RecordBurnState, at, []string{fmt.Sprintf(
		`%s{objective="availability", route="shop/checkout"} %d`, RecordBurnState, burnState(firing))})
}

func writeExprCheck(b *strings.Builder, expr string, at time.Duration, samples []string) {
	fmt.Fprintf(b, "      - expr: '%s'\n        eval_time: %s\n", expr, minutes(at))
	if len(samples) == 0 {
		b.WriteString("        exp_samples: []\n")
		return
	}
	b.WriteString("        exp_samples:\n")
	for _, smp := range samples {
		i := strings.LastIndexByte(smp, ' ')
		fmt.Fprintf(b, "          - labels: '%s'\n            value: %s\n", smp[:i], smp[i+1:])
	}
}

// writeAnnotated checks every firing alert's labels and annotations as on-call reads them.
// The text is written out here a second time, on purpose: it is what the test holds the
// generator to.
func writeAnnotated(b *strings.Builder, at time.Duration, firing []AlertPair) {
	fmt.Fprintf(b, "    alert_rule_test:\n      - alertname: %s\n        eval_time: %s\n        exp_alerts:\n", AlertName, minutes(at))
	for _, p := range firing {
		long, short := PromDuration(p.Long), PromDuration(p.Short)
		fmt.Fprintf(b, "          - exp_labels: {route: shop/checkout, objective: availability, severity: %s, long_window: %s, short_window: %s}\n",
			p.Severity, long, short)
		b.WriteString("            exp_annotations:\n")
		fmt.Fprintf(b, "              summary: 'shop/checkout availability: error budget burning at 1000.0× over %s'\n", long)
		fmt.Fprintf(b, "              description: 'Route shop/checkout is spending the error budget of its availability objective "+
			"(99.9%% of requests good over 28d) 1000.0× as fast as the 28d window allows, over the last %s and still over the last %s. "+
			"This %s fires above %s×: at that rate %s%% of the 28d budget goes in %s. Budget left over 28d: -99900.0%%. "+
			"Burn rate: edgetel:slo_burn_rate:rate%s{route=\"shop/checkout\", objective=\"availability\"}'\n",
			long, short, p.Severity, formatFloat(p.Factor), formatFloat(p.BudgetShare*100), long, long)
		fmt.Fprintf(b, "              runbook_url: '%s#%s'\n", DefaultRunbookURL, p.Severity)
		fmt.Fprintf(b, "              dashboard_url: '%s/d/edgetel-shop_checkout?from=now-%s&to=now'\n", DefaultGrafanaURL, long)
	}
}

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
