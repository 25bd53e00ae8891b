package jaeger

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/internal/selftel"
)

// Reasons in edgetel_jaeger_spans_dropped_total.
const (
	dropQueueFull        = "queue_full"        // the export queue was full
	dropNotRunning       = "not_running"       // given to an exporter not started or stopped
	dropRejected         = "rejected"          // Jaeger refused it: a permanent error or a partial success
	dropRetriesExhausted = "retries_exhausted" // Jaeger failed for longer than RetryMaxElapsed
	dropShutdown         = "shutdown"          // Shutdown's context ended before it was sent
)

// Reasons in edgetel_jaeger_spans_unjoined_total.
const (
	unjoinedExpired  = "expired"  // the join did not emit it within Window
	unjoinedEvicted  = "evicted"  // the pending buffer was full and it was the oldest
	unjoinedShutdown = "shutdown" // pending when the exporter stopped
)

// Kinds in edgetel_jaeger_spans_exported_total.
const (
	kindForwarded   = "forwarded"
	kindSynthesized = "synthesized"
)

const telemetryNS, telemetrySubsys = "edgetel", "jaeger"

// telemetry is the exporter's self-telemetry, each series resolved once.
type telemetry struct {
	collectors selftel.Collectors

	received, synthesized, enriched, failures prometheus.Counter
	exportedForwarded, exportedSynthesized    prometheus.Counter
	dropped                                   map[string]prometheus.Counter
	unjoined                                  map[string]prometheus.Counter
	queue, pending                            prometheus.Collector // gauges
	exportLag                                 prometheus.Gauge
}

func newTelemetry(queued, pendingSpans func() float64) *telemetry {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: telemetryNS, Subsystem: telemetrySubsys, Name: name, Help: help,
		})
	}
	vec := func(name, help, label string, values ...string) (*prometheus.CounterVec, map[string]prometheus.Counter) {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: telemetryNS, Subsystem: telemetrySubsys, Name: name, Help: help,
		}, []string{label})
		m := make(map[string]prometheus.Counter, len(values))
		for _, val := range values {
			m[val] = v.WithLabelValues(val)
		}
		return v, m
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: telemetryNS, Subsystem: telemetrySubsys, Name: name, Help: help,
		}, f)
	}
	exported, byKind := vec("spans_exported_total",
		"Spans Jaeger accepted, by kind: forwarded from Envoy, or synthesized from an access log.",
		"kind", kindForwarded, kindSynthesized)
	dropped, byDrop := vec("spans_dropped_total",
		"Spans that will not reach Jaeger, by reason.",
		"reason", dropQueueFull, dropNotRunning, dropRejected, dropRetriesExhausted, dropShutdown)
	unjoined, byUnjoined := vec("spans_unjoined_total",
		"Spans exported without the join's attributes because the join never emitted them, by reason.",
		"reason", unjoinedExpired, unjoinedEvicted, unjoinedShutdown)
	t := &telemetry{
		received:            counter("spans_received_total", "Spans taken from the trace receiver."),
		synthesized:         counter("spans_synthesized_total", "Spans built from the access log of a bad request that had none."),
		enriched:            counter("spans_enriched_total", "Spans given their access-log record's attributes."),
		failures:            counter("export_failures_total", "Export calls that failed (each attempt of a retried batch counts)."),
		exportedForwarded:   byKind[kindForwarded],
		exportedSynthesized: byKind[kindSynthesized],
		dropped:             byDrop,
		unjoined:            byUnjoined,
		queue:               gauge("queue_spans", "Spans waiting in the export queue.", queued),
		pending:             gauge("pending_spans", "Spans waiting for the join.", pendingSpans),
		exportLag: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: telemetryNS, Subsystem: telemetrySubsys,
			Name: "export_lag_seconds", Help: "How long the oldest span of the last batch Jaeger accepted waited in the export queue: the export lag."}),
	}
	t.collectors = []prometheus.Collector{
		t.received, t.synthesized, t.enriched, t.failures, exported, dropped, unjoined,
		t.queue, t.pending, t.exportLag,
	}
	return t
}

func (t *telemetry) drop(reason string, n int) {
	if n > 0 {
		t.dropped[reason].Add(float64(n))
	}
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) { e.tel.collectors.Describe(ch) }

// Collect implements prometheus.Collector.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) { e.tel.collectors.Collect(ch) }

var _ prometheus.Collector = (*Exporter)(nil)
