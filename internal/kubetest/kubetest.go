// Package kubetest runs a real Kubernetes API server for tests: Debian's etcd and a
// kube-apiserver built by hack/build-kube-apiserver.sh, on loopback ports, with the edgetel
// CRDs installed. No controllers run: objects are stored and watched, nothing reconciles them
// (no Pods, no EndpointSlices unless a test writes them, no namespace deletion).
//
// The tools are found by internal/testenv: a test that does not find them fails under CI (or
// with EDGETEL_REQUIRE_TOOLS set) and is skipped otherwise, with the command that installs
// them, so that a developer without the tools can run the rest and CI never passes by
// skipping.
package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/edgetel/edgetel/internal/testenv"
)

// Timeouts of the environment's start. Start-up is a few seconds on an idle machine; the
// margins are for busy 2-core CI runners building other things at the same time.
const (
	EtcdStartTimeout      = 30 * time.Second
	APIServerStartTimeout = 60 * time.Second
	CRDTimeout            = 30 * time.Second
)

// ErrStart: the environment did not come up.
var ErrStart = errors.New("kubetest: cannot start the test API server")

// Options of Start. The zero value installs the CRDs of deploy/crds.
type Options struct {
	// CRDDirs are directories of CRD YAML to install; nil means the module's deploy/crds.
	CRDDirs []string
	// NoCRDs installs no CRDs at all.
	NoCRDs bool
}

// Env is a running API server.
type Env struct {
	// Config is an admin (system:masters) client config for the API server.
	Config *rest.Config
	// Dir holds the data, certificates and logs; removed when the test ends.
	Dir string
}

// Start starts etcd and kube-apiserver, waits until the API server is ready and the CRDs are
// established, and stops both when t's cleanup runs. It skips or fails t (see the package
// comment) when a tool is missing, and fails t when the environment does not come up.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	etcdBin, apiBin := Tools(t)
	root := ModuleRoot(t)
	dir := t.TempDir() // before the processes' cleanup, so it is removed after they stop
	e := &Env{Dir: dir}
	start := time.Now()
	etcdURL, err := startWithRetry(func() (string, error) { return startEtcd(t, etcdBin, dir) })
	if err != nil {
		t.Fatal(err)
	}
	e.Config, err = startWithRetry(func() (*rest.Config, error) { return startAPIServer(t, apiBin, dir, etcdURL) })
	if err != nil {
		t.Fatal(err)
	}
	if !opts.NoCRDs {
		dirs := opts.CRDDirs
		if dirs == nil {
			dirs = []string{filepath.Join(root, "deploy", "crds")}
		}
		for _, d := range dirs {
			e.InstallCRDs(t, d)
		}
	}
	t.Logf("kubetest: API server %s ready in %v", e.Config.Host, time.Since(start).Round(time.Millisecond))
	return e
}

// Tools returns the paths of etcd and kube-apiserver, found on PATH or in
// $EDGETEL_TOOLS_DIR/bin; when one is missing it skips or fails t (see the package comment).
func Tools(t testing.TB) (etcd, apiserver string) {
	t.Helper()
	return testenv.Tool(t, "etcd"), testenv.Tool(t, "kube-apiserver")
}

// ModuleRoot returns the directory of the go.mod above the working directory (a test runs in
// its package's directory).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("kubetest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// randomToken returns a fresh bearer token: a fixed one would let any local process that
// guessed the port act as cluster admin.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// poll calls f every interval until it returns nil, the process dies (exited closes) or the
// timeout passes, and returns f's last error then.
func poll(ctx context.Context, timeout time.Duration, exited <-chan struct{}, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		case <-exited:
			return fmt.Errorf("exited: %w", err)
		case <-tick.C:
		}
	}
}
