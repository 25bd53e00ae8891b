// Package testenv finds the external tools that integration tests run for real (Prometheus,
// promtool, etcd, kube-apiserver, Chromium, ...), and frees loopback ports for them.
//
// A missing tool fails the test when CI or EDGETEL_REQUIRE_TOOLS is set — so that CI never
// passes by skipping — and skips it otherwise, with the command that installs it.
package testenv

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ToolsDir is where hack/ caches the tools it builds.
func ToolsDir() string {
	if d := os.Getenv("EDGETEL_TOOLS_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "edgetel-tools")
}

// Required reports whether missing tools must fail tests rather than skip them.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("EDGETEL_REQUIRE_TOOLS") != ""
}

// Tool returns the path of the named tool, looked up on PATH and in ToolsDir()/bin.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join(ToolsDir(), "bin", name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	msg := name + " is not installed: run hack/install-tools.sh (make tools)"
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
