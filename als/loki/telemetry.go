package loki

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons in edgetel_loki_lines_dropped_total.
const (
	dropBufferFull = "buffer_full" // Loki is slow or down and the buffer is full
	dropSendFailed = "send_failed" // the batch failed after every retry
	dropRejected   = "rejected"    // Loki refused the batch (4xx other than 429): not retried
	dropShutdown   = "shutdown"    // still buffered when Shutdown's context ended
	dropNotRunning = "not_running" // arrived before Start or after Shutdown
)

// telemetry is the exporter's self-telemetry; counters are resolved once here.
type telemetry struct {
	collectors []prometheus.Collector

	linesSent, batchesSent, batchesFailed, retries prometheus.Counter
	exportLag                                      prometheus.Gauge
	droppedBufferFull, droppedSendFailed           prometheus.Counter
	droppedRejected, droppedShutdown               prometheus.Counter
	droppedNotRunning                              prometheus.Counter
	sendDuration                                   prometheus.Observer
}

func newTelemetry(lines, bytes *atomic.Int64) *telemetry {
	const ns, sub = "edgetel", "loki"
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "lines_dropped_total",
		Help: "Access-log lines never accepted by Loki, by reason.",
	}, []string{"reason"})
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: sub, Name: "send_duration_seconds",
		Help:    "Duration of push requests to Loki, failed ones included.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	t := &telemetry{
		linesSent:     counter("lines_sent_total", "Access-log lines Loki accepted."),
		batchesSent:   counter("batches_sent_total", "Push requests Loki accepted."),
		batchesFailed: counter("batches_failed_total", "Batches dropped after a refusal, their last retry, or shutdown."),
		retries:       counter("retries_total", "Push requests retried after a 429, a 5xx or a connection error."),
		exportLag: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "export_lag_seconds",
			Help: "How long the oldest line of the last batch Loki accepted waited in the sink: the export lag."}),
		droppedBufferFull: dropped.WithLabelValues(dropBufferFull),
		droppedSendFailed: dropped.WithLabelValues(dropSendFailed),
		droppedRejected:   dropped.WithLabelValues(dropRejected),
		droppedShutdown:   dropped.WithLabelValues(dropShutdown),
		droppedNotRunning: dropped.WithLabelValues(dropNotRunning),
		sendDuration:      duration,
	}
	bufLines := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "buffer_lines",
		Help: "Lines waiting for Loki, the batch being sent included.",
	}, func() float64 { return float64(lines.Load()) })
	bufBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "buffer_bytes",
		Help: "Bytes of lines waiting for Loki, the batch being sent included.",
	}, func() float64 { return float64(bytes.Load()) })
	t.collectors = []prometheus.Collector{
		t.linesSent, t.batchesSent, t.batchesFailed, t.retries, t.exportLag, dropped, duration, bufLines, bufBytes,
	}
	return t
}

// Describe implements prometheus.Collector.
func (x *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range x.tel.collectors {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (x *Exporter) Collect(ch chan<- prometheus.Metric) {
	for _, c := range x.tel.collectors {
		c.Collect(ch)
	}
}

var _ prometheus.Collector = (*Exporter)(nil)
