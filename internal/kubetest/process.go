package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// proc is a child process whose output goes to a log file in the environment's directory.
type proc struct {
	name   string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startProc starts bin and registers its stop with t. The process is killed, not stopped
// gracefully: its data is thrown away with the test, and a graceful stop of etcd and
// kube-apiserver costs seconds per test.
func startProc(t testing.TB, dir, name, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, log: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	dieWithParent(p.cmd)
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrStart, name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("kubetest: last lines of %s:\n%s", p.log, p.tail(30))
		}
	})
	return p, nil
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	return string(bytes.Join(lines[max(0, len(lines)-n):], []byte("\n")))
}

// failed wraps err with ErrStart and the end of the process's log.
func (p *proc) failed(err error) error {
	return fmt.Errorf("%w: %s: %w\n%s (last lines):\n%s", ErrStart, p.name, err, p.log, p.tail(20))
}

// freePort returns a loopback port that was free a moment ago. Another process may take it
// before ours binds it; startWithRetry then tries again.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startAttempts bounds the retries of a start that lost its port to another process.
const startAttempts = 3

// startWithRetry calls start again, with fresh ports, while it fails for a port taken between
// freePort and the bind.
func startWithRetry[T any](start func() (T, error)) (T, error) {
	var v T
	var err error
	for range startAttempts {
		if v, err = start(); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return v, err
}

func startEtcd(t testing.TB, bin, dir string) (string, error) {
	client, err1 := freePort()
	peer, err2 := freePort()
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("%w: no free port: %v %v", ErrStart, err1, err2)
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	p, err := startProc(t, dir, "etcd", bin,
		"--name=default", "--data-dir="+filepath.Join(dir, "etcd-"+strconv.Itoa(client)),
		"--listen-client-urls="+clientURL, "--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL, "--logger=zap", "--log-level=warn")
	if err != nil {
		return "", err
	}
	err = poll(context.Background(), EtcdStartTimeout, p.exited, func(ctx context.Context) error {
		body, err := get(ctx, http.DefaultClient, clientURL+"/health", "")
		if err == nil && !strings.Contains(body, `"health":"true"`) {
			err = fmt.Errorf("unhealthy: %s", body)
		}
		return err
	})
	if err != nil {
		return "", p.failed(err)
	}
	return clientURL, nil
}

// startAPIServer starts kube-apiserver on etcd and returns an admin config once /readyz
// passes. Authentication is a static token in system:masters; the serving certificate is
// the API server's self-signed one, whose CA the config trusts.
func startAPIServer(t testing.TB, bin, dir, etcdURL string) (*rest.Config, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("%w: no free port: %w", ErrStart, err)
	}
	host := "https://127.0.0.1:" + strconv.Itoa(port)
	token := randomToken()
	saKey, tokens := filepath.Join(dir, "sa.key"), filepath.Join(dir, "tokens.csv")
	if err := writeServiceAccountKey(saKey); err != nil {
		return nil, err
	}
	if err := os.WriteFile(tokens, []byte(token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	certDir := filepath.Join(dir, "certs")
	p, err := startProc(t, dir, "kube-apiserver", bin, apiServerArgs(etcdURL, host, port, certDir, saKey, tokens)...)
	if err != nil {
		return nil, err
	}
	cfg := &rest.Config{Host: host, BearerToken: token, QPS: 200, Burst: 400,
		TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(certDir, "apiserver.crt")}}
	err = poll(context.Background(), APIServerStartTimeout, p.exited, func(ctx context.Context) error {
		// The certificate appears a moment after the start; the client must be made after it.
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			return err
		}
		_, err = get(ctx, hc, host+"/readyz", token)
		return err
	})
	if err != nil {
		return nil, p.failed(err)
	}
	// In memory, so that the config outlives the directory (as in a kubeconfig for a tool).
	if cfg.CAData, err = os.ReadFile(cfg.CAFile); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	cfg.CAFile = ""
	return cfg, nil
}

// apiServerArgs are the flags of a kube-apiserver on loopback with static-token authentication
// and RBAC, as in a real cluster.
func apiServerArgs(etcdURL, host string, port int, certDir, saKey, tokens string) []string {
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + certDir,
		"--service-account-issuer=" + host,
		"--service-account-key-file=" + saKey, "--service-account-signing-key-file=" + saKey,
		"--token-auth-file=" + tokens, "--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		// No controller manager issues service account tokens, and the kubernetes Service's
		// endpoints would only be noise in the tests' EndpointSlice watches.
		"--disable-admission-plugins=ServiceAccount", "--endpoint-reconciler-type=none",
		// Fewer post-start hooks: a faster start.
		"--enable-priority-and-fairness=false",
	}
}

func writeServiceAccountKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("%w: service account key: %w", ErrStart, err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(path, pemKey, 0o600); err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	return nil
}

// get fetches url and returns its body, or an error for any status but 200.
func get(ctx context.Context, hc *http.Client, url, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}
