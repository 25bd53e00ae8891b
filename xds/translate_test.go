package xds

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata and remove stale ones")

// goldenKinds are the per-type outputs of one translation case.
var goldenKinds = []string{"listeners", "routes", "clusters", "endpoints", "apilisteners"}

// envoyTLS is where the tests' Envoys find their client certificate, as the chart mounts it.
var envoyTLS = &UpstreamTLS{CertFile: "/etc/edgetel/tls/tls.crt", KeyFile: "/etc/edgetel/tls/tls.key", CAFile: "/etc/edgetel/tls/ca.crt"}

// translateOptions are the Options of the cases that need some; the others take none.
var translateOptions = map[string]Options{
	"sink-mtls": {SinkTLS: envoyTLS},
}

// TestTranslateGolden compiles each testdata/<case>.in.yaml (policy documents) into the
// model, translates it, checks that the result is valid, and compares every resource type
// with testdata/<case>.<type>.out.yaml.
func TestTranslateGolden(t *testing.T) {
	ins, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no test cases in testdata: %v", err)
	}
	written := map[string]bool{}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		for _, kind := range goldenKinds {
			written[filepath.Join("testdata", name+"."+kind+".out.yaml")] = true
		}
		t.Run(name, func(t *testing.T) {
			e := compileFile(t, in)
			res, err := TranslateWith(e, translateOptions[name])
			if err != nil {
				t.Fatalf("Translate: %v", err)
			}
			if err := res.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			outs := map[string][]byte{
				"listeners":    mustYAMLList(t, res.Listeners),
				"routes":       mustYAMLList(t, res.Routes),
				"clusters":     mustYAMLList(t, res.Clusters),
				"endpoints":    mustYAMLList(t, res.Endpoints),
				"apilisteners": mustYAMLList(t, APIListeners(e)),
			}
			for kind, got := range outs {
				checkGolden(t, filepath.Join("testdata", name+"."+kind+".out.yaml"), got)
			}
		})
	}
	removeStale(t, "testdata/*.out.yaml", func(p string) bool {
		return written[p] || strings.HasPrefix(filepath.Base(p), "bootstrap-")
	})
}

// compileFile decodes and compiles one file of policies; any problem fails the test.
func compileFile(t *testing.T, path string) *model.Edge {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	policies, err := config.Decode(path, data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	out := config.Compile(config.Input{Policies: policies})
	if err := out.Err(); err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return out.Edge
}

func mustYAMLList[T proto.Message](t *testing.T, ms []T) []byte {
	t.Helper()
	b, err := yamlList(ms)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares got with the golden file, or with -update writes it.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./xds/ -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./xds/ -update rewrites it):\n%s", path, diff)
	}
}

// removeStale deletes, with -update, the golden files matching glob that no case wrote.
func removeStale(t *testing.T, glob string, keep func(string) bool) {
	t.Helper()
	if !*update || t.Failed() {
		return
	}
	paths, _ := filepath.Glob(glob)
	for _, p := range paths {
		if !keep(p) {
			if err := os.Remove(p); err != nil {
				t.Error(err)
			}
		}
	}
}
