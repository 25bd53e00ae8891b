package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/promql/parser"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata and remove stale ones")

// cases compiles every testdata/<case>.in.yaml, plus the embedded examples as "examples".
func cases(t *testing.T) map[string]*model.Edge {
	t.Helper()
	ins, _ := filepath.Glob("testdata/*.in.yaml")
	if len(ins) == 0 {
		t.Fatal("no cases in testdata")
	}
	out := map[string]*model.Edge{}
	for _, in := range ins {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		policies, err := config.Decode(in, data)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		out[strings.TrimSuffix(filepath.Base(in), ".in.yaml")] = compile(t, policies)
	}
	policies, err := config.NewDir(examples.Policies(), "examples/policies").Load()
	if err != nil {
		t.Fatal(err)
	}
	out["examples"] = compile(t, policies)
	return out
}

func compile(t *testing.T, policies []config.Policy) *model.Edge {
	t.Helper()
	c := config.Compile(config.Input{Policies: policies})
	if err := c.Err(); err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return c.Edge
}

func generate(t *testing.T, e *model.Edge) []Dashboard {
	t.Helper()
	ds, err := Generate(e, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestDashboardsGolden compares each case's dashboards (testdata/<case>.out/<uid>.json) and
// ConfigMaps (testdata/<case>.out/configmaps.yaml) with the goldens; -update rewrites them
// and removes the stale ones.
func TestDashboardsGolden(t *testing.T) {
	written := map[string]bool{}
	for name, e := range cases(t) {
		dir := filepath.Join("testdata", name+".out")
		ds := generate(t, e)
		for _, d := range ds {
			js, err := d.JSON()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, d.UID+".json")
			written[path] = true
			checkGolden(t, path, js)
		}
		cms, err := ConfigMaps(ds, ConfigMapMeta{Namespace: "monitoring"})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "configmaps.yaml")
		written[path] = true
		checkGolden(t, path, cms)
	}
	stale, _ := filepath.Glob("testdata/*.out/*")
	dirs, _ := filepath.Glob("testdata/*.out")
	for _, p := range append(stale, dirs...) {
		if written[p] || strings.HasSuffix(p, ".out") && hasWritten(written, p) {
			continue
		}
		if !*update {
			t.Errorf("%s is a golden of no case (go test ./dashboards/ -update removes it)", p)
		} else if err := os.RemoveAll(p); err != nil {
			t.Error(err)
		}
	}
}

func hasWritten(written map[string]bool, dir string) bool {
	for p := range written {
		if filepath.Dir(p) == dir {
			return true
		}
	}
	return false
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./dashboards/ -update creates it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./dashboards/ -update rewrites it):\n%s", path, diff)
	}
}

func TestTheSameModelGivesTheSameBytes(t *testing.T) {
	e := cases(t)["examples"]
	a, b := generate(t, e), generate(t, e)
	for i := range a {
		ja, _ := a[i].JSON()
		jb, _ := b[i].JSON()
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s differs between two runs", a[i].UID)
		}
	}
}

// TestEveryQueryParses parses every Prometheus query with the PromQL parser (the Grafana
// macro replaced) and every Loki stream selector as the selector it is.
func TestEveryQueryParses(t *testing.T) {
	n := 0
	for name, e := range cases(t) {
		for _, d := range generate(t, e) {
			for _, q := range d.Queries() {
				n++
				var err error
				if q.Datasource == "prometheus" {
					_, err = parser.ParseExpr(strings.ReplaceAll(q.Expr, RateInterval, "5m"))
				} else {
					_, err = parser.ParseMetricSelector(q.Expr)
				}
				if err != nil {
					t.Errorf("%s %s %q %s: %v\n%s", name, d.UID, q.Panel, q.RefID, err, q.Expr)
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d queries: are the dashboards empty?", n)
	}
}

// TestQueriesReadOnlyWhatExists checks that every metric a Prometheus query reads is one
// docs/metrics.md documents, one the generated rules record, or one of the Envoy stats of
// the metrics-service contract.
func TestQueriesReadOnlyWhatExists(t *testing.T) {
	known := documentedMetrics(t)
	for name, e := range cases(t) {
		rules, err := slo.Rules(e, slo.RuleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				known[r.Record] = true
			}
		}
		for _, d := range generate(t, e) {
			for _, q := range d.Queries() {
				if q.Datasource != "prometheus" {
					continue
				}
				for _, m := range metricNames(t, q.Expr) {
					if !known[m] {
						t.Errorf("%s %s %q reads %s, which nothing exports", name, d.UID, q.Panel, m)
					}
				}
			}
		}
	}
}

// documentedMetrics are the metric names of docs/metrics.md, histograms with their series.
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(edgetel_[a-z_]+)` \\| (\\w+)").FindAllStringSubmatch(string(doc), -1) {
		known[m[1]] = true
		if m[2] == "histogram" {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				known[m[1]+s] = true
			}
		}
	}
	if !known["edgetel_slo_events_total"] {
		t.Fatal("docs/metrics.md lists no edgetel_slo_events_total: has its table changed?")
	}
	return known
}

func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := parser.ParseExpr(strings.ReplaceAll(expr, RateInterval, "5m"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, vs := range parser.ExtractSelectors(e) {
		for _, m := range vs {
			if m.Name == "__name__" {
				out = append(out, m.Value)
			}
		}
	}
	return out
}

// TestAlertsLinkToTheirRouteDashboard checks that every dashboard_url of the generated
// alerts names a dashboard that is generated.
func TestAlertsLinkToTheirRouteDashboard(t *testing.T) {
	for name, e := range cases(t) {
		uids := map[string]bool{}
		for _, d := range generate(t, e) {
			uids[d.UID] = true
		}
		rules, err := slo.Rules(e, slo.RuleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				uid := regexp.MustCompile(`/d/([^?]+)`).FindStringSubmatch(r.Annotations["dashboard_url"])
				if uid == nil || !uids[uid[1]] {
					t.Errorf("%s: %s links to %s, which is not generated", name, g.Name, r.Annotations["dashboard_url"])
				}
			}
		}
	}
}

func TestConfigMapsCarryTheSidecarLabelAndTheJSON(t *testing.T) {
	ds := generate(t, cases(t)["shop"])
	b, err := ConfigMaps(ds[:1], ConfigMapMeta{})
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Metadata struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if err := sigsyaml.Unmarshal(b, &cm); err != nil {
		t.Fatal(err)
	}
	js, _ := ds[0].JSON()
	if cm.Metadata.Labels["grafana_dashboard"] != "1" || cm.Data[ds[0].UID+".json"] != string(js) ||
		cm.Metadata.Name != "grafana-dashboard-edgetel-slo-overview" {
		t.Errorf("ConfigMap = %+v", cm)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(cm.Data[ds[0].UID+".json"]), &v); err != nil || v["uid"] != ds[0].UID {
		t.Errorf("the ConfigMap's JSON is not the dashboard: %v", err)
	}
}
