package loki

import (
	"math"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons in edgetel_loki_lines_dropped_total.
const (
	dropBufferFull = "buffer_full" // Loki is slow or down and the buffer is full
	dropSendFailed = "send_failed" // Loki refused the batch, or it failed after every retry
	dropShutdown   = "shutdown"    // still buffered when Shutdown's context ended
	dropNotRunning = "not_running" // arrived before Start or after Shutdown
)

// telemetry is the exporter's self-telemetry: its own drop counts, and a collector that
// mirrors the buffer and the client's counts at scrape time.
type telemetry struct {
	x *Exporter

	droppedBufferFull, droppedShutdown, droppedNotRunning atomic.Uint64
	lagBits                                               atomic.Uint64 // float64 seconds

	sentDesc, droppedDesc, retriesDesc, linesDesc, bytesDesc, lagDesc *prometheus.Desc
}

func newTelemetry(x *Exporter) *telemetry {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("edgetel", "loki", name), help, labels, nil)
	}
	return &telemetry{
		x:        x,
		sentDesc: desc("lines_sent_total", "Access-log lines Loki accepted."),
		droppedDesc: desc("lines_dropped_total",
			"Access-log lines never accepted by Loki, by reason.", "reason"),
		retriesDesc: desc("retries_total", "Push requests retried after a 429, a 5xx or a connection error."),
		linesDesc:   desc("buffer_lines", "Lines waiting for Loki, the client's batch included."),
		bytesDesc:   desc("buffer_bytes", "Bytes of lines waiting for Loki, the client's batch included."),
		lagDesc: desc("export_lag_seconds",
			"How long the oldest line of the last batch Loki accepted waited in the sink: the export lag."),
	}
}

func (t *telemetry) setLag(s float64) { t.lagBits.Store(math.Float64bits(s)) }

// Describe implements prometheus.Collector.
func (x *Exporter) Describe(ch chan<- *prometheus.Desc) {
	t := x.tel
	for _, d := range []*prometheus.Desc{t.sentDesc, t.droppedDesc, t.retriesDesc, t.linesDesc, t.bytesDesc, t.lagDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It settles the buffer against the client's
// counts first, so that sent + dropped + buffered is every line taken, in one scrape.
func (x *Exporter) Collect(ch chan<- prometheus.Metric) {
	t := x.tel
	x.mu.Lock()
	x.settle()
	lines, bytes := x.lines, x.bytes
	sent, failed := x.counts.sentDropped()
	retries := x.counts.retried()
	x.mu.Unlock()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	counter(t.sentDesc, float64(sent))
	counter(t.droppedDesc, float64(t.droppedBufferFull.Load()), dropBufferFull)
	counter(t.droppedDesc, float64(failed), dropSendFailed)
	counter(t.droppedDesc, float64(t.droppedShutdown.Load()), dropShutdown)
	counter(t.droppedDesc, float64(t.droppedNotRunning.Load()), dropNotRunning)
	counter(t.retriesDesc, float64(retries))
	ch <- prometheus.MustNewConstMetric(t.linesDesc, prometheus.GaugeValue, float64(lines))
	ch <- prometheus.MustNewConstMetric(t.bytesDesc, prometheus.GaugeValue, float64(bytes))
	ch <- prometheus.MustNewConstMetric(t.lagDesc, prometheus.GaugeValue, math.Float64frombits(t.lagBits.Load()))
}

var _ prometheus.Collector = (*Exporter)(nil)
