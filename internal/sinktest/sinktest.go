// Package sinktest runs a sink with its HTTP port on loopback for tests, as `edgetel sink`
// runs it, and reads its /metrics as Prometheus does.
package sinktest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/serve"
	edgemodel "github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sink"
)

// ExampleEdge compiles the embedded example policies or fails the test.
func ExampleEdge(t testing.TB) *edgemodel.Edge {
	t.Helper()
	e, err := config.ExampleEdge()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Sink is a running sink and its HTTP port; both stop with the test.
type Sink struct {
	*sink.Sink
	HTTP *serve.HTTP
}

// Start starts a sink on 127.0.0.1 ports accounting for edge, its metrics on a pedantic
// registry served over HTTP.
func Start(t testing.TB, edge *edgemodel.Edge) *Sink {
	t.Helper()
	return StartWith(t, edge, sink.Config{})
}

// StartWith is Start with cfg; an empty cfg.GRPCAddr becomes a free port on 127.0.0.1.
func StartWith(t testing.TB, edge *edgemodel.Edge, cfg sink.Config) *Sink {
	t.Helper()
	if cfg.GRPCAddr == "" {
		cfg.GRPCAddr = "127.0.0.1:0"
	}
	s, err := sink.New(cfg, edge, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collectors()...)
	h := serve.NewHTTP("127.0.0.1:0", reg)
	h.AddReadyCheck("sink", s.Ready)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		_ = s.Shutdown(ctx)
	})
	return &Sink{Sink: s, HTTP: h}
}

// MetricsURL is the sink's /metrics.
func (s *Sink) MetricsURL() string { return "http://" + s.HTTP.Addr().String() + "/metrics" }

// Scrape reads /metrics as Prometheus does, negotiating OpenMetrics, and parses it.
func (s *Sink) Scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.MetricsURL(), nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("content type %q, want OpenMetrics", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(promText(string(body))))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// ScrapeUntil scrapes /metrics every 20ms until done says the families are what the test
// waits for, or ten seconds pass; it returns the last scrape either way, for the test to
// check. The sink counts what it received before its consumers have counted it, so a test
// waits for the counter it checks.
func (s *Sink) ScrapeUntil(t testing.TB, done func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := s.Scrape(t)
		if done(fams) || time.Now().After(deadline) {
			return fams
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// promText turns OpenMetrics into the Prometheus text format expfmt's parser reads: the
// lines it cannot (exemplars, # EOF, # UNIT, _created samples) are dropped.
func promText(om string) string {
	var b strings.Builder
	for _, line := range strings.Split(om, "\n") {
		if line == "# EOF" || strings.HasPrefix(line, "# UNIT") || strings.Contains(line, "_created") {
			continue
		}
		if i := strings.Index(line, " # {"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// Value returns the counter, gauge or untyped sample of the family whose labels include
// labels.
func Value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.Metric {
		for _, lp := range m.Label {
			if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
				continue next
			}
		}
		if v, ok := sampleValue(m); ok {
			return v, true
		}
	}
	return 0, false
}

// sampleValue reads a counter, gauge or untyped sample. A counter read back from
// OpenMetrics parses as untyped: its family is named without _total there.
func sampleValue(m *dto.Metric) (float64, bool) {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Untyped != nil:
		return m.Untyped.GetValue(), true
	}
	return 0, false
}

// Sum adds up every sample of the family name, whatever its labels.
func Sum(fams map[string]*dto.MetricFamily, name string) float64 {
	var sum float64
	if fam, ok := fams[name]; ok {
		for _, m := range fam.Metric {
			v, _ := sampleValue(m)
			sum += v
		}
	}
	return sum
}
