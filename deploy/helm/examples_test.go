package helm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/edgetel/edgetel/internal/testenv"
)

// The example Envoy fleet of deploy/examples/envoy, and how its bootstrap is rendered: the
// control plane's and the sink's Services are the chart's for release "edge" in namespace
// edgetel (TestEnvoyExamplePointsAtTheChart checks that they exist).
const (
	examplesDir     = "../examples"
	envoyExampleDir = "../examples/envoy"
	bootstrapFile   = "bootstrap.yaml"
	bootstrapCM     = "edge-envoy-bootstrap"
	bootstrapKey    = "envoy.yaml"
	exampleXDSAddr  = "edge-edgetel-xds.edgetel.svc.cluster.local:18000"
)

// bootstrapArgs are the `edgetel` arguments of the example's bootstrap, from the repo root.
var bootstrapArgs = []string{
	"render", "bootstrap",
	"--policies", "deploy/examples/envoy/edgeconfig",
	"--xds-address", exampleXDSAddr,
	"--node-id", "edge-envoy",
}

const bootstrapHeader = `# The bootstrap of the example Envoy fleet (envoy.yaml) in data.envoy.yaml, byte for byte
# as this prints it (from the repo root):
#   edgetel %s
# Generated: do not edit. Regenerate with
#   go test ./deploy/helm -run TestEnvoyExampleBootstrapMatchesRender -update
apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: edge
  labels:
    app.kubernetes.io/name: edge-envoy
    app.kubernetes.io/part-of: edgetel
data:
  %s: |
`

// bootstrapConfigMap is bootstrap.yaml for a rendered bootstrap: a literal block scalar
// keeps every byte of it, its final newline included.
func bootstrapConfigMap(bootstrap []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, bootstrapHeader, strings.Join(bootstrapArgs, " "), bootstrapCM, bootstrapKey)
	for _, l := range strings.SplitAfter(string(bootstrap), "\n") {
		switch l {
		case "":
		case "\n":
			b.WriteString(l)
		default:
			b.WriteString("    " + l)
		}
	}
	return b.Bytes()
}

var edgetelBuild struct {
	once sync.Once
	bin  string
	err  error
}

// TestMain removes the edgetel binary edgetelBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if edgetelBuild.bin != "" {
		_ = os.RemoveAll(filepath.Dir(edgetelBuild.bin))
	}
	os.Exit(code)
}

// edgetelBinary builds cmd/edgetel once per test binary.
func edgetelBinary(t *testing.T) string {
	t.Helper()
	edgetelBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "edgetel-helm-test")
		if err != nil {
			edgetelBuild.err = err
			return
		}
		edgetelBuild.bin = filepath.Join(dir, "edgetel")
		// Without PGO, as go test builds (Makefile): the dependencies are compiled once.
		cmd := exec.Command("go", "build", "-pgo=off", "-o", edgetelBuild.bin, "./cmd/edgetel")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			edgetelBuild.err = fmt.Errorf("go build ./cmd/edgetel: %w\n%s", err, out)
		}
	})
	if edgetelBuild.err != nil {
		t.Fatal(edgetelBuild.err)
	}
	return edgetelBuild.bin
}

// TestEnvoyExampleBootstrapMatchesRender: the example's ConfigMap carries exactly what
// `edgetel render bootstrap` prints; -update rewrites it.
func TestEnvoyExampleBootstrapMatchesRender(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs edgetel")
	}
	rendered := run(t, repoRoot(t), edgetelBinary(t), bootstrapArgs...)
	want := bootstrapConfigMap(rendered)
	path := filepath.Join(envoyExampleDir, bootstrapFile)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("deploy/examples/envoy/%s differs from `edgetel %s` (%s); regenerate: go test ./deploy/helm -run %s -update",
			bootstrapFile, strings.Join(bootstrapArgs, " "), firstDiff(got, want), t.Name())
	}
	// The file's encoding gives the bootstrap back unchanged.
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(got, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data[bootstrapKey] != string(rendered) {
		t.Errorf("data.%s of %s is not the rendered bootstrap: %s", bootstrapKey, bootstrapFile, firstDiff([]byte(cm.Data[bootstrapKey]), rendered))
	}
}

// TestEnvoyExamplePointsAtTheChart: the Services the example's bootstrap and EdgeConfig name
// are the chart's, and its Deployment mounts the bootstrap's ConfigMap.
func TestEnvoyExamplePointsAtTheChart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helm")
	}
	objs := template(t, testenv.Tool(t, "helm"), nil)
	for _, svc := range []struct {
		key  string
		port float64
	}{
		{"Service/edge-edgetel-xds", 18000}, // exampleXDSAddr
		{"Service/edge-edgetel-sink", 4317}, // edgeconfig/edge.yaml's spec.sink
	} {
		o, ok := objs[svc.key]
		if !ok || o.Metadata.Namespace != "edgetel" {
			t.Errorf("the chart renders no %s in namespace edgetel", svc.key)
			continue
		}
		if got := get(o.Raw, "spec", "ports", 0, "port"); got != svc.port {
			t.Errorf("%s: first port %v, the example uses %v", svc.key, got, svc.port)
		}
	}
	ec := exampleDocs(t, "envoy/edgeconfig/edge.yaml")
	if got := get(ec[0], "spec", "sink", "service"); got != "edgetel/edge-edgetel-sink" {
		t.Errorf("the example EdgeConfig's sink is %v", got)
	}
	deploy := exampleDocs(t, "envoy/envoy.yaml")[0]
	pod := get(deploy, "spec", "template", "spec")
	if got := get(pod, "volumes", 0, "configMap", "name"); got != bootstrapCM {
		t.Errorf("the Deployment's first volume is ConfigMap %v, want %s", got, bootstrapCM)
	}
	args := fmt.Sprint(get(pod, "containers", 0, "args"))
	if !strings.Contains(args, "--config-path=/etc/envoy/"+bootstrapKey) {
		t.Errorf("envoy args %s do not load the mounted bootstrap", args)
	}
}

// exampleDocs parses the documents of a file under deploy/examples.
func exampleDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	return yamlDocs(t, filepath.Join(examplesDir, name))
}
