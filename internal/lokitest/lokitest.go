// Package lokitest runs a real Loki (single binary, all targets in one process) for tests: it
// listens on loopback, accepts pushes at /loki/api/v1/push at once, and answers LogQL.
//
// Storage is the local filesystem in t.TempDir() (TSDB index, schema v13) with the ingester
// WAL enabled, so Stop then Restart — same ports, same data dir — keeps what was pushed before
// the stop: the ingester replays its WAL at start.
package lokitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/internal/testenv"
)

// readyTimeout bounds every wait for Loki to become ready (start and restart).
const readyTimeout = 60 * time.Second

// stopTimeout is how long Stop waits after SIGTERM before it kills the process group.
const stopTimeout = 15 * time.Second

// Loki is a running Loki.
type Loki struct {
	// URL is the HTTP base URL (http://127.0.0.1:PORT); push to URL+"/loki/api/v1/push".
	URL string
	// GRPCAddr is the gRPC listen address (127.0.0.1:PORT).
	GRPCAddr string
	// Dir is the data directory (storage, WAL); it survives Restart.
	Dir string

	t       testing.TB
	bin     string
	cfgPath string
	proc    testenv.Process
}

// Start starts Loki on free loopback ports and waits until /ready says so; it stops with the test,
// and its log is printed if the test failed.
func Start(t testing.TB) *Loki {
	t.Helper()
	l := &Loki{t: t, bin: testenv.Tool(t, "loki"), Dir: t.TempDir()}
	l.cfgPath = filepath.Join(l.Dir, "loki.yaml")
	l.proc = testenv.Process{Name: "loki", LogPath: filepath.Join(l.Dir, "loki.log")}
	t.Cleanup(func() {
		l.Stop()
		if t.Failed() {
			l.proc.DumpLog(t)
		}
	})
	// A free port can be taken between FreePort and Loki's bind: retry with new ports.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		httpPort, grpcPort := testenv.FreePort(t), testenv.FreePort(t)
		for grpcPort == httpPort {
			grpcPort = testenv.FreePort(t)
		}
		l.URL = "http://127.0.0.1:" + strconv.Itoa(httpPort)
		l.GRPCAddr = "127.0.0.1:" + strconv.Itoa(grpcPort)
		if err = os.WriteFile(l.cfgPath, []byte(Config(l.Dir, httpPort, grpcPort)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err = l.start(); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		t.Logf("loki: %v; retrying on other ports", err)
	}
	if err != nil {
		t.Fatalf("loki: %v", err)
	}
	return l
}

// Config returns the Loki configuration used by Start: every component in one process on
// 127.0.0.1, no auth, filesystem storage and WAL under dir, in-memory rings, replication 1,
// an ingester that joins its ring at once, no usage reporting (no network beyond loopback).
// Also:
//   - no results cache, so an empty answer to a query made before a push cannot hide it later;
//   - the query frontend and querier are pointed at the scheduler's address instead of
//     finding it in the scheduler ring: with the ring, /ready took about 11s and the first
//     query waited about 3s more for the scheduler to join it;
//   - no service_name or detected_level labels added by Loki, so queries return exactly the
//     labels that were pushed.
func Config(dir string, httpPort, grpcPort int) string {
	return fmt.Sprintf(`auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: %[2]d
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: %[3]d
  log_level: warn
  graceful_shutdown_timeout: 1s
common:
  instance_addr: 127.0.0.1
  path_prefix: %[1]s
  storage:
    filesystem:
      chunks_directory: %[1]s/chunks
      rules_directory: %[1]s/rules
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
ingester:
  lifecycler:
    join_after: 0s
    min_ready_duration: 0s
    final_sleep: 0s
  wal:
    enabled: true
    dir: %[1]s/wal
schema_config:
  configs:
    - from: 2020-10-24
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
query_range:
  cache_results: false
frontend:
  scheduler_address: 127.0.0.1:%[3]d
frontend_worker:
  scheduler_address: 127.0.0.1:%[3]d
limits_config:
  discover_service_name: []
  discover_log_levels: false
pattern_ingester:
  enabled: false
analytics:
  reporting_enabled: false
tracing:
  enabled: false
`, dir, httpPort, grpcPort)
}

// start launches the process and waits for /ready. The caller holds no lock.
func (l *Loki) start() error {
	done, err := l.proc.Start(l.Dir, l.bin, "-config.file="+l.cfgPath)
	if err != nil {
		return err
	}
	return l.waitReady(done)
}

func (l *Loki) waitReady(exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited before it was ready: %s", l.proc.LogTail())
		default:
		}
		resp, err := client.Get(l.URL + "/ready")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.Stop()
	return fmt.Errorf("not ready within %s (last /ready: %s)", readyTimeout, last)
}

// Stop stops Loki (SIGTERM to its process group, SIGKILL after 15s) and waits for it to exit.
// It is idempotent; the data directory and ports stay reserved for Restart.
func (l *Loki) Stop() { l.proc.Stop(stopTimeout) }

// Restart stops Loki if it runs, then starts it again on the same ports with the same data
// directory, and waits until it is ready. Entries pushed before the stop are kept (WAL replay).
func (l *Loki) Restart() {
	l.t.Helper()
	l.Stop()
	if err := l.start(); err != nil {
		l.t.Fatalf("loki restart: %v", err)
	}
}

// Entry is one log line of a stream.
type Entry struct {
	// Labels are the stream's labels (with any structured metadata or parsed labels merged in).
	Labels map[string]string
	Time   time.Time
	Line   string
}

// Push sends one line to the push API (JSON), with the given stream labels.
func (l *Loki) Push(labels map[string]string, ts time.Time, line string) error {
	body, err := json.Marshal(map[string]any{"streams": []any{map[string]any{
		"stream": labels,
		"values": [][]string{{strconv.FormatInt(ts.UnixNano(), 10), line}},
	}}})
	if err != nil {
		return err
	}
	resp, err := http.Post(l.URL+"/loki/api/v1/push", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// QueryRange runs a LogQL log query over [start, end] via /loki/api/v1/query_range and returns
// up to 5000 entries, oldest first. Metric queries (matrix results) are an error.
func (l *Loki) QueryRange(t testing.TB, logql string, start, end time.Time) ([]Entry, error) {
	t.Helper()
	q := url.Values{
		"query":     {logql},
		"start":     {strconv.FormatInt(start.UnixNano(), 10)},
		"end":       {strconv.FormatInt(end.UnixNano(), 10)},
		"limit":     {"5000"},
		"direction": {"forward"},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(l.URL + "/loki/api/v1/query_range?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query_range %s: %s: %s", logql, resp.Status, strings.TrimSpace(string(body)))
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Stream map[string]string `json:"stream"`
				Values [][]any           `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query_range %s: %w: %s", logql, err, body)
	}
	if r.Status != "success" || r.Data.ResultType != "streams" {
		return nil, fmt.Errorf("query_range %s: status %q, result type %q", logql, r.Status, r.Data.ResultType)
	}
	var out []Entry
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			if len(v) < 2 {
				return nil, fmt.Errorf("query_range %s: bad value %v", logql, v)
			}
			tsStr, _ := v[0].(string)
			ns, err := strconv.ParseInt(tsStr, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("query_range %s: timestamp %v: %w", logql, v[0], err)
			}
			line, _ := v[1].(string)
			out = append(out, Entry{Labels: s.Stream, Time: time.Unix(0, ns), Line: line})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// Running reports whether the Loki process is up (started and not stopped or crashed).
func (l *Loki) Running() bool { return l.proc.Running() }
