package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestValidateAcceptsTheExamples(t *testing.T) {
	out, err := execute(t, "validate", "../../examples/policies")
	if err != nil || !strings.Contains(out, "ok: 6 policies, 5 routes") {
		t.Errorf("validate examples: %v\n%s", err, out)
	}
}

func TestValidatePrintsOneLinePerProblemAndFails(t *testing.T) {
	dir := t.TempDir()
	doc := "apiVersion: edgetel.io/v1alpha1\nkind: EdgeRoute\nmetadata: {name: checkout, namespace: shop}\n" +
		"spec:\n  match: {prefix: checkout}\n  backend: {service: checkout}\n"
	if err := os.WriteFile(filepath.Join(dir, "checkout.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := execute(t, "validate", dir)
	if !errors.Is(err, errProblems) || exitCode(err) != 1 {
		t.Fatalf("validate a broken policy: err %v, want errProblems (exit 1)", err)
	}
	want := []string{
		filepath.Join(dir, "checkout.yaml") + ` (EdgeRoute shop/checkout): spec.match.prefix: "checkout" must start with /`,
		filepath.Join(dir, "checkout.yaml") + ` (EdgeRoute shop/checkout): spec.backend.port: is required with service`,
		"2 problems; 0 routes would be in force",
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("validate printed\n%s\nwant\n%s", out, strings.Join(want, "\n"))
	}
}

func TestRenderCRDsPrintsBothResources(t *testing.T) {
	out, err := execute(t, "render", "crds")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"name: edgeroutes.edgetel.io", "name: edgeconfigs.edgetel.io"} {
		if !strings.Contains(out, name) {
			t.Errorf("render crds lacks %q", name)
		}
	}
}

func TestRenderBootstrapPrintsAValidBootstrap(t *testing.T) {
	out, err := execute(t, "render", "bootstrap", "--node-id", "edge-7", "--xds-address", "xds.edgetel:18000")
	if err != nil {
		t.Fatal(err)
	}
	b := readBootstrap(t, out)
	if b.GetNode().GetId() != "edge-7" || len(b.GetStatsSinks()) != 1 {
		t.Errorf("node %q with %d stats sinks, want edge-7 with the metrics service", b.GetNode().GetId(), len(b.GetStatsSinks()))
	}
}

func TestDialableAddressesPointAtLoopback(t *testing.T) {
	for in, want := range map[string]string{":4317": "127.0.0.1:4317", "0.0.0.0:9464": "127.0.0.1:9464", "[::]:1": "127.0.0.1:1", "10.1.2.3:5": "10.1.2.3:5"} {
		if got := dialable(in); got != want {
			t.Errorf("dialable(%q) = %q, want %q", in, got, want)
		}
	}
}
