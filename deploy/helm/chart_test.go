package helm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/edgetel/edgetel/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the chart's files/ from `edgetel render`")

const chartDir = "edgetel"

// repoRoot is the main module's root, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return stdout.Bytes()
}

func TestHelmLint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helm")
	}
	helm := testenv.Tool(t, "helm")
	for _, sets := range [][]string{nil, nonDefaultSets} {
		args := append([]string{"lint", "--strict", chartDir}, setArgs(sets)...)
		out := run(t, ".", helm, args...)
		if !bytes.Contains(out, []byte("0 chart(s) failed")) || bytes.Contains(out, []byte("[WARNING]")) {
			t.Errorf("helm %s:\n%s", strings.Join(args, " "), out)
		}
	}
}

// nonDefaultSets flips every optional part of the chart on.
var nonDefaultSets = []string{
	"sink.kind=DaemonSet",
	"sink.service.internalTrafficPolicy=Local",
	"monitoring.enabled=true",
	"monitoring.prometheusRule.labels.release=prom",
	"exampleRoute.enabled=true",
	"rbac.tlsSecrets[0].namespace=edge",
	"rbac.tlsSecrets[0].names[0]=edge-tls",
	"watchNamespace=shop",
	"logLevel=debug",
	"tls.enabled=true",
	"tls.secretName=edgetel-tls",
}

func setArgs(sets []string) []string {
	var args []string
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return args
}

type object struct {
	Raw        map[string]any `json:"-"`
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// template renders the chart (with its CRDs) and parses every document.
func template(t *testing.T, helm string, sets []string) map[string]object {
	t.Helper()
	args := append([]string{"template", "edge", chartDir, "--namespace", "edgetel", "--include-crds"}, setArgs(sets)...)
	out := run(t, ".", helm, args...)
	objs := map[string]object{}
	for i, doc := range docSep.Split(string(out), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("document %d does not parse: %v\n%s", i, err, head(doc))
		}
		if err := yaml.Unmarshal([]byte(doc), &o.Raw); err != nil {
			t.Fatalf("document %d does not parse: %v", i, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("document %d lacks apiVersion, kind or metadata.name:\n%s", i, head(doc))
		}
		key := o.Kind + "/" + o.Metadata.Name
		if _, dup := objs[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		objs[key] = o
	}
	return objs
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func head(s string) string {
	if len(s) > 800 {
		return s[:800] + "..."
	}
	return s
}

func kinds(objs map[string]object) []string {
	var ks []string
	for k := range objs {
		ks = append(ks, k)
	}
	return ks
}

func TestHelmTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helm")
	}
	helm := testenv.Tool(t, "helm")

	t.Run("defaults", func(t *testing.T) {
		objs := template(t, helm, nil)
		for _, want := range []string{
			"CustomResourceDefinition/edgeroutes.edgetel.io",
			"CustomResourceDefinition/edgeconfigs.edgetel.io",
			"Deployment/edge-edgetel-xds", "Service/edge-edgetel-xds", "ServiceAccount/edge-edgetel-xds",
			"Deployment/edge-edgetel-sink", "Service/edge-edgetel-sink", "ServiceAccount/edge-edgetel-sink",
			"HorizontalPodAutoscaler/edge-edgetel-sink", "PodDisruptionBudget/edge-edgetel-sink",
			"ClusterRole/edge-edgetel", "ClusterRoleBinding/edge-edgetel",
		} {
			if _, ok := objs[want]; !ok {
				t.Errorf("missing %s; rendered %v", want, kinds(objs))
			}
		}
		for k := range objs {
			if strings.HasPrefix(k, "ServiceMonitor/") || strings.HasPrefix(k, "PrometheusRule/") ||
				strings.HasPrefix(k, "ConfigMap/") || strings.HasPrefix(k, "EdgeRoute/") || strings.HasPrefix(k, "Role/") {
				t.Errorf("%s rendered with default values", k)
			}
		}
		checkWorkloads(t, objs, "Deployment/edge-edgetel-xds", "Deployment/edge-edgetel-sink")
		checkClusterRole(t, objs["ClusterRole/edge-edgetel"].Raw)
		if len(objs) != 12 {
			t.Errorf("rendered %d objects, want 12: %v", len(objs), kinds(objs))
		}
	})

	t.Run("non-default", func(t *testing.T) {
		objs := template(t, helm, nonDefaultSets)
		for _, want := range []string{
			"DaemonSet/edge-edgetel-sink", "ServiceMonitor/edge-edgetel", "PrometheusRule/edge-edgetel-slo",
			"EdgeRoute/example", "Role/edge-edgetel-tls", "RoleBinding/edge-edgetel-tls",
			"Deployment/edge-edgetel-xds",
		} {
			if _, ok := objs[want]; !ok {
				t.Errorf("missing %s; rendered %v", want, kinds(objs))
			}
		}
		for _, gone := range []string{"Deployment/edge-edgetel-sink", "HorizontalPodAutoscaler/edge-edgetel-sink", "PodDisruptionBudget/edge-edgetel-sink"} {
			if _, ok := objs[gone]; ok {
				t.Errorf("%s rendered with sink.kind=DaemonSet", gone)
			}
		}
		checkWorkloads(t, objs, "Deployment/edge-edgetel-xds", "DaemonSet/edge-edgetel-sink")
		if got := objs["PrometheusRule/edge-edgetel-slo"].Metadata.Labels["release"]; got != "prom" {
			t.Errorf("PrometheusRule label release = %q, want prom", got)
		}
		dashboards := 0
		for k, o := range objs {
			if strings.HasPrefix(k, "ConfigMap/") {
				dashboards++
				if o.Metadata.Labels["grafana_dashboard"] != "1" || o.Metadata.Namespace != "edgetel" {
					t.Errorf("%s: labels %v namespace %q", k, o.Metadata.Labels, o.Metadata.Namespace)
				}
			}
		}
		// The rendered objects carry what `edgetel render` printed, unchanged by the templates.
		rule := fileDocs(t, "files/prometheusrule.yaml")
		if len(rule) != 1 || !reflect.DeepEqual(objs["PrometheusRule/edge-edgetel-slo"].Raw["spec"], rule[0]["spec"]) {
			t.Errorf("the rendered PrometheusRule's spec is not files/prometheusrule.yaml's")
		}
		cms := fileDocs(t, "files/dashboards.yaml")
		if dashboards != len(cms) || len(cms) == 0 {
			t.Errorf("rendered %d dashboard ConfigMaps, files/dashboards.yaml has %d", dashboards, len(cms))
		}
		for _, cm := range cms {
			name := cm["metadata"].(map[string]any)["name"].(string)
			if !reflect.DeepEqual(objs["ConfigMap/"+name].Raw["data"], cm["data"]) {
				t.Errorf("the rendered ConfigMap %s's data is not files/dashboards.yaml's", name)
			}
		}
	})
}

// fileDocs parses the documents of a file in the chart.
func fileDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	return yamlDocs(t, filepath.Join(chartDir, name))
}

// yamlDocs parses the YAML documents of a file, skipping empty ones (comments only).
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, d := range docSep.Split(string(b), -1) {
		if strings.TrimSpace(stripComments(d)) == "" {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, m)
	}
	return docs
}

// TestChartCRDsMatchDeploy: the chart's crds/ are deploy/crds, byte for byte.
func TestChartCRDsMatchDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("chart test")
	}
	want, err := filepath.Glob(filepath.Join("..", "crds", "*.yaml"))
	if err != nil || len(want) == 0 {
		t.Fatalf("deploy/crds: %v %v", want, err)
	}
	got, err := filepath.Glob(filepath.Join(chartDir, "crds", "*"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, g := range got {
		names[filepath.Base(g)] = true
	}
	for _, w := range want {
		base := filepath.Base(w)
		delete(names, base)
		a, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(chartDir, "crds", base))
		if err != nil {
			t.Errorf("chart lacks crds/%s (cp deploy/crds/*.yaml deploy/helm/edgetel/crds/): %v", base, err)
			continue
		}
		if !bytes.Equal(a, b) {
			t.Errorf("deploy/helm/edgetel/crds/%s differs from deploy/crds/%s (cp deploy/crds/*.yaml deploy/helm/edgetel/crds/)", base, base)
		}
	}
	for n := range names {
		t.Errorf("chart has crds/%s, deploy/crds does not", n)
	}
}

// TestChartFilesMatchRender: files/ is what `edgetel render` prints; -update rewrites it.
func TestChartFilesMatchRender(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs edgetel")
	}
	root := repoRoot(t)
	bin := edgetelBinary(t) // built once for this and the example's drift test
	for _, f := range []struct {
		file string
		args []string
	}{
		{"files/prometheusrule.yaml", []string{"render", "rules", "--format", "prometheusrule"}},
		{"files/dashboards.yaml", []string{"render", "dashboards", "--format", "configmap"}},
	} {
		want := run(t, root, bin, f.args...)
		path := filepath.Join(chartDir, f.file)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/helm/edgetel/%s differs from `edgetel %s` (%s); regenerate: go test ./deploy/helm -run %s -update",
				f.file, strings.Join(f.args, " "), firstDiff(got, want), t.Name())
		}
	}
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d: chart %q, render %q", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("chart has %d lines, render %d", len(la), len(lb))
}

// get walks a decoded YAML tree: string keys index maps, ints index lists.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// checkWorkloads: every edgetel container runs non-root on a read-only root filesystem
// without capabilities, with resource requests and the /healthz and /readyz probes.
func checkWorkloads(t *testing.T, objs map[string]object, keys ...string) {
	t.Helper()
	for _, key := range keys {
		o, ok := objs[key]
		if !ok {
			t.Errorf("missing %s", key)
			continue
		}
		pod := get(o.Raw, "spec", "template", "spec")
		if get(pod, "securityContext", "runAsNonRoot") != true {
			t.Errorf("%s: pod securityContext.runAsNonRoot is not true", key)
		}
		c := get(pod, "containers", 0)
		args := fmt.Sprint(get(c, "args"))
		for _, want := range []string{"--kubernetes"} {
			if !strings.Contains(args, want) {
				t.Errorf("%s: args %s lack %s", key, args, want)
			}
		}
		for _, check := range []struct {
			path []any
			want any
		}{
			{[]any{"securityContext", "runAsNonRoot"}, true},
			{[]any{"securityContext", "readOnlyRootFilesystem"}, true},
			{[]any{"securityContext", "allowPrivilegeEscalation"}, false},
			{[]any{"securityContext", "capabilities", "drop", 0}, "ALL"},
			{[]any{"livenessProbe", "httpGet", "path"}, "/healthz"},
			{[]any{"readinessProbe", "httpGet", "path"}, "/readyz"},
			{[]any{"livenessProbe", "httpGet", "port"}, "http"},
		} {
			if got := get(c, check.path...); got != check.want {
				t.Errorf("%s: container %v = %v, want %v", key, check.path, got, check.want)
			}
		}
		for _, r := range []string{"cpu", "memory"} {
			if get(c, "resources", "requests", r) == nil {
				t.Errorf("%s: no %s request", key, r)
			}
		}
		ports := map[string]bool{}
		for _, p := range get(c, "ports").([]any) {
			ports[fmt.Sprint(get(p, "containerPort"))] = true
		}
		want := []string{"18000", "9464"}
		if strings.HasSuffix(key, "-sink") {
			want = []string{"4317", "9464"}
		}
		for _, p := range want {
			if !ports[p] {
				t.Errorf("%s: no container port %s (have %v)", key, p, ports)
			}
		}
	}
}

// checkClusterRole: the ClusterRole is config/kube.go's table and nothing more.
func checkClusterRole(t *testing.T, role map[string]any) {
	t.Helper()
	want := map[string]string{
		"edgetel.io/edgeroutes":           "get list watch",
		"edgetel.io/edgeconfigs":          "get list watch",
		"edgetel.io/edgeroutes/status":    "get update",
		"edgetel.io/edgeconfigs/status":   "get update",
		"/services":                       "get list watch",
		"discovery.k8s.io/endpointslices": "get list watch",
	}
	got := map[string]string{}
	rules, _ := get(role, "rules").([]any)
	for _, r := range rules {
		var verbs []string
		for _, v := range get(r, "verbs").([]any) {
			verbs = append(verbs, v.(string))
		}
		for _, g := range get(r, "apiGroups").([]any) {
			for _, res := range get(r, "resources").([]any) {
				got[g.(string)+"/"+res.(string)] = strings.Join(verbs, " ")
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterRole grants %v, want exactly %v", got, want)
	}
}
