// Package jaegertest runs a real Jaeger v2 (`jaeger --config`) for tests: an OTLP receiver
// (gRPC and HTTP) on loopback writes into in-memory storage, and the query API reads it back.
//
// Memory storage lives in the process: Stop or Restart loses every stored trace. Restart
// keeps the ports, so an exporter pointed at OTLPAddr reconnects by itself.
package jaegertest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/internal/testenv"
)

// readyTimeout bounds every wait for Jaeger to become ready (start and restart).
const readyTimeout = 60 * time.Second

// stopTimeout is how long Stop waits after SIGTERM before it kills the process group.
const stopTimeout = 15 * time.Second

// Jaeger is a running Jaeger v2.
type Jaeger struct {
	// OTLPAddr is the OTLP/gRPC receiver address (127.0.0.1:PORT), no TLS.
	OTLPAddr string
	// OTLPHTTPURL is the OTLP/HTTP receiver base URL; post traces to OTLPHTTPURL+"/v1/traces".
	OTLPHTTPURL string
	// QueryURL is the query service base URL (HTTP API /api/v3/..., /api/traces/...).
	QueryURL string
	// QueryGRPCAddr is the query service gRPC address (api_v3 QueryService).
	QueryGRPCAddr string
	// Dir holds the config file and the log.
	Dir string

	t       testing.TB
	bin     string
	cfgPath string
	proc    testenv.Process
}

// Start starts Jaeger on free loopback ports and waits until its query API and both OTLP
// receivers answer; it stops with the test, and its log is printed if the test failed.
func Start(t testing.TB) *Jaeger {
	t.Helper()
	j := &Jaeger{t: t, bin: testenv.Tool(t, "jaeger"), Dir: t.TempDir()}
	j.cfgPath = filepath.Join(j.Dir, "jaeger.yaml")
	j.proc = testenv.Process{Name: "jaeger", LogPath: filepath.Join(j.Dir, "jaeger.log")}
	t.Cleanup(func() {
		j.Stop()
		if t.Failed() {
			j.proc.DumpLog(t)
		}
	})
	// A free port can be taken between FreePort and Jaeger's bind: retry with new ports.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		p := freePorts(t, 4)
		j.OTLPAddr = "127.0.0.1:" + strconv.Itoa(p[0])
		j.OTLPHTTPURL = "http://127.0.0.1:" + strconv.Itoa(p[1])
		j.QueryURL = "http://127.0.0.1:" + strconv.Itoa(p[2])
		j.QueryGRPCAddr = "127.0.0.1:" + strconv.Itoa(p[3])
		if err = os.WriteFile(j.cfgPath, []byte(Config(p[0], p[1], p[2], p[3])), 0o644); err != nil {
			t.Fatal(err)
		}
		if err = j.start(); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		t.Logf("jaeger: %v; retrying on other ports", err)
	}
	if err != nil {
		t.Fatalf("jaeger: %v", err)
	}
	return j
}

// freePorts returns n distinct free loopback ports.
func freePorts(t testing.TB, n int) []int {
	seen := map[int]bool{}
	var out []int
	for len(out) < n {
		if p := testenv.FreePort(t); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Config returns the Jaeger v2 configuration used by Start: the otlp receiver (gRPC and HTTP)
// feeding jaeger_storage_exporter, a jaeger_storage memory backend, jaeger_query on loopback,
// no processors (spans are stored before the OTLP call returns), no self-tracing, and no
// internal metrics endpoint (its default :8888 would collide between tests).
func Config(otlpGRPCPort, otlpHTTPPort, queryHTTPPort, queryGRPCPort int) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:%[3]d
    grpc:
      endpoint: 127.0.0.1:%[4]d
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[1]d
      http:
        endpoint: 127.0.0.1:%[2]d
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, otlpGRPCPort, otlpHTTPPort, queryHTTPPort, queryGRPCPort)
}

// start launches the process and waits until it is ready.
func (j *Jaeger) start() error {
	done, err := j.proc.Start(j.Dir, j.bin, "--config", j.cfgPath)
	if err != nil {
		return err
	}
	return j.waitReady(done)
}

// waitReady polls until the query API answers and both OTLP receivers accept connections.
// The collector starts extensions (jaeger_query) before the pipelines and receivers last, so
// this means the whole pipeline is up.
func (j *Jaeger) waitReady(exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited before it was ready: %s", j.proc.LogTail())
		default:
		}
		err := j.probe(client)
		if err == nil {
			return nil
		}
		last = err.Error()
		time.Sleep(100 * time.Millisecond)
	}
	j.Stop()
	return fmt.Errorf("not ready within %s (last: %s)", readyTimeout, last)
}

func (j *Jaeger) probe(client *http.Client) error {
	resp, err := client.Get(j.QueryURL + "/api/v3/services")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("query /api/v3/services: %s", resp.Status)
	}
	for _, addr := range []string{j.OTLPAddr, strings.TrimPrefix(j.OTLPHTTPURL, "http://")} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		c.Close()
	}
	return nil
}

// Stop stops Jaeger (SIGTERM to its process group, SIGKILL after 15s) and waits for it to
// exit. Stored traces are lost. It is idempotent.
func (j *Jaeger) Stop() { j.proc.Stop(stopTimeout) }

// Restart stops Jaeger if it runs and starts it again on the same ports, with empty storage.
func (j *Jaeger) Restart() {
	j.t.Helper()
	j.Stop()
	if err := j.start(); err != nil {
		j.t.Fatalf("jaeger restart: %v", err)
	}
}

// Running reports whether the Jaeger process is up (started and not stopped or crashed).
func (j *Jaeger) Running() bool { return j.proc.Running() }

// readBody reads a response body, capped at 64 MiB.
func readBody(r io.Reader) ([]byte, error) { return io.ReadAll(io.LimitReader(r, 64<<20)) }
