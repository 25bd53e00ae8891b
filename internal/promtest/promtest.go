// Package promtest runs a real Prometheus server for tests: it scrapes the given targets on
// loopback and answers PromQL over its HTTP API.
package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/internal/testenv"
)

// Options configure the server.
type Options struct {
	// Targets are host:port addresses scraped at /metrics.
	Targets []string
	// ScrapeInterval defaults to 1s.
	ScrapeInterval time.Duration
	// RuleFiles are loaded as rule_files, evaluated every EvaluationInterval (default 1s).
	RuleFiles          []string
	EvaluationInterval time.Duration
}

// Server is a running Prometheus.
type Server struct {
	URL string
	t   testing.TB
}

// Start starts Prometheus and waits until it is ready; it stops with the test.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := testenv.Tool(t, "prometheus")
	if o.ScrapeInterval == 0 {
		o.ScrapeInterval = time.Second
	}
	if o.EvaluationInterval == 0 {
		o.EvaluationInterval = time.Second
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(configYAML(o)), 0o644); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--enable-feature=exemplar-storage",
		"--log.level=warn",
	)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), t: t}
	s.waitReady()
	return s
}

func configYAML(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n", o.ScrapeInterval, o.EvaluationInterval)
	if len(o.RuleFiles) > 0 {
		b.WriteString("rule_files:\n")
		for _, f := range o.RuleFiles {
			fmt.Fprintf(&b, "  - %q\n", f)
		}
	}
	b.WriteString("scrape_configs:\n  - job_name: edgetel\n    static_configs:\n      - targets:\n")
	for _, t := range o.Targets {
		fmt.Fprintf(&b, "          - %q\n", t)
	}
	return b.String()
}

func (s *Server) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatal("prometheus not ready within 30s")
}

// Sample is one element of an instant vector.
type Sample struct {
	Metric map[string]string
	Value  float64
}

// Query evaluates an instant query and returns its vector.
func (s *Server) Query(expr string) ([]Sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := s.get("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(data.Result))
	for _, r := range data.Result {
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", expr, r.Value[1], err)
		}
		out = append(out, Sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// Exemplar is one exemplar from /api/v1/query_exemplars.
type Exemplar struct {
	SeriesLabels map[string]string
	Labels       map[string]string
	Value        float64
}

// QueryExemplars returns the exemplars of the series selected by expr over the last window.
func (s *Server) QueryExemplars(expr string, window time.Duration) ([]Exemplar, error) {
	now := time.Now()
	var data []struct {
		SeriesLabels map[string]string `json:"seriesLabels"`
		Exemplars    []struct {
			Labels map[string]string `json:"labels"`
			Value  string            `json:"value"`
		} `json:"exemplars"`
	}
	// Exemplar timestamps have milliseconds: an end in whole seconds would leave out those
	// of the last second, so the range ends a minute ahead.
	q := url.Values{"query": {expr},
		"start": {strconv.FormatInt(now.Add(-window).Unix(), 10)}, "end": {strconv.FormatInt(now.Add(time.Minute).Unix(), 10)}}
	if err := s.get("/api/v1/query_exemplars", q, &data); err != nil {
		return nil, err
	}
	var out []Exemplar
	for _, series := range data {
		for _, e := range series.Exemplars {
			v, _ := strconv.ParseFloat(e.Value, 64)
			out = append(out, Exemplar{SeriesLabels: series.SeriesLabels, Labels: e.Labels, Value: v})
		}
	}
	return out, nil
}

func (s *Server) get(path string, q url.Values, data any) error {
	resp, err := http.Get(s.URL + path + "?" + q.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: %s: %w", path, body, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s %s: %s", path, q.Get("query"), env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// Eventually polls f until it returns nil or the timeout passes (testenv.Eventually).
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	testenv.Eventually(t, timeout, "condition", f)
}
