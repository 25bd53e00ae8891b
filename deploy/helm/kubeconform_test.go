package helm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgetel/edgetel/internal/kubeschema"
	"github.com/edgetel/edgetel/internal/testenv"
)

// schemaDir is where hack/build-kubeconform.sh generates kubeconform's schemas: Kubernetes'
// own kinds and the Prometheus Operator's, in <version>-standalone-strict/, and the
// Prometheus Operator's CRDs in crds/.
func schemaDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testenv.ToolsDir(), "kubeconform-schemas")
	if _, err := os.Stat(filepath.Join(dir, "crds")); err != nil {
		msg := "kubeconform schemas are not generated (" + dir + "): run hack/install-tools.sh kubeconform"
		if testenv.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// kubeVersion is the Kubernetes version the kube tools module pins: the API server the tests
// run and the OpenAPI spec the schemas come from.
func kubeVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "hack", "tools", "kube", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?k8s\.io/kubernetes v(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("hack/tools/kube/go.mod does not require k8s.io/kubernetes")
	}
	return string(m[1])
}

// crdSchemas writes the schemas of deploy/crds into a new directory: they change with the
// repo, so they are never cached.
func crdSchemas(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "crds", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("deploy/crds: %v %v", files, err)
	}
	all := kubeschema.Schemas{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := kubeschema.FromCRDs(b, kubeschema.Options{Strict: true})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := all.Merge(s); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := kubeschema.Write(dir, all); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestKubeconformStrict validates the chart's manifests (its CRDs included) for default and
// non-default values, and deploy/examples, against the schemas of the Kubernetes version the
// tests run: an unknown or misplaced field, a wrong type or a kind without a schema fails.
func TestKubeconformStrict(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helm and kubeconform")
	}
	helm := testenv.Tool(t, "helm")
	kubeconform := testenv.Tool(t, "kubeconform")
	args := []string{"-strict", "-summary", "-kubernetes-version", kubeVersion(t),
		"-schema-location", schemaDir(t),
		"-schema-location", filepath.Join(crdSchemas(t), "{{ .ResourceKind }}{{ .KindSuffix }}.json")}

	for _, tc := range []struct {
		name string
		sets []string
	}{
		{"the chart with default values is valid", nil},
		{"the chart with every optional part on is valid", nonDefaultSets},
	} {
		t.Run(tc.name, func(t *testing.T) {
			manifests := run(t, ".", helm, append([]string{"template", "edge", chartDir, "--namespace", "edgetel", "--include-crds"},
				setArgs(tc.sets)...)...)
			kubeconformRun(t, kubeconform, manifests, append(args, "-")...)
		})
	}
	t.Run("deploy/examples are valid", func(t *testing.T) {
		kubeconformRun(t, kubeconform, nil, append(args, examplesDir)...)
	})
	// The control: were the schemas lax, every case above would pass as well.
	t.Run("a misplaced field is invalid, in a Kubernetes kind and in an edgetel kind", func(t *testing.T) {
		for _, doc := range misplacedFields {
			cmd := exec.Command(kubeconform, append(args, "-")...)
			cmd.Stdin = strings.NewReader(doc)
			out, err := cmd.CombinedOutput()
			if err == nil || !bytes.Contains(out, []byte("additional properties")) {
				t.Errorf("kubeconform passed a misplaced field (%v):\n%s\n%s", err, out, doc)
			}
		}
	})
}

// misplacedFields are manifests with one field where it does not belong.
var misplacedFields = []string{`
apiVersion: v1
kind: Service
metadata: {name: s, namespace: edgetel}
spec:
  ports: [{port: 80, targetPort: http}]
  selector: {app: s}
  internalTraficPolicy: Local
`, `
apiVersion: edgetel.io/v1alpha1
kind: EdgeRoute
metadata: {name: r, namespace: edgetel}
spec:
  match: {prefix: /a/, method: [GET]}
  backend: {service: s, port: 80}
`}

// kubeconformRun runs kubeconform with stdin and fails t unless it validated something and
// found nothing invalid, missing or skipped.
func kubeconformRun(t *testing.T, bin string, stdin []byte, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubeconform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	summary := regexp.MustCompile(`Valid: (\d+), Invalid: 0, Errors: 0, Skipped: 0`).FindSubmatch(out)
	if summary == nil || string(summary[1]) == "0" {
		t.Fatalf("kubeconform validated nothing or skipped something:\n%s", out)
	}
	t.Logf("kubeconform: %s", bytes.TrimSpace(out))
}
