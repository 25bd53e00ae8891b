package als

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/internal/selftel"
)

// Reasons in edgetel_als_entries_dropped_total.
const (
	dropQueueFull  = "queue_full"  // the consumer is behind: queue or its byte budget full
	dropEntryLimit = "entry_limit" // past MaxEntriesPerMessage in one message
	dropNotRunning = "not_running" // arrived before Start or after Shutdown
)

// telemetry is the receiver's self-telemetry. Counters on the hot path are resolved once
// here, so that counting costs an atomic add per message, not a label lookup.
type telemetry struct {
	collectors selftel.Collectors

	messages, malformed, truncated prometheus.Counter
	httpEntries, tcpEntries        prometheus.Counter
	droppedQueueFull               prometheus.Counter
	droppedEntryLimit              prometheus.Counter
	droppedNotRunning              prometheus.Counter
	streamsOpen                    prometheus.Gauge
	streams                        prometheus.Counter
}

func newTelemetry(queuedBytes *atomic.Int64) *telemetry {
	const ns, sub = "edgetel", "als"
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	entries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "entries_received_total",
		Help: "Access-log entries received from Envoy, by protocol; HTTP entries include those then dropped.",
	}, []string{"protocol"})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "entries_dropped_total",
		Help: "HTTP access-log entries received but not given to the consumer, by reason.",
	}, []string{"reason"})
	t := &telemetry{
		messages:  counter("messages_received_total", "StreamAccessLogs messages received."),
		malformed: counter("messages_malformed_total", "Messages rejected whole because they were not valid protobuf."),
		truncated: counter("values_truncated_total", "Record values cut to the configured maximum length."),
		streams:   counter("streams_total", "Access-log streams opened by Envoy."),
		streamsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "streams_open", Help: "Access-log streams open now.",
		}),
		httpEntries:       entries.WithLabelValues("http"),
		tcpEntries:        entries.WithLabelValues("tcp"),
		droppedQueueFull:  dropped.WithLabelValues(dropQueueFull),
		droppedEntryLimit: dropped.WithLabelValues(dropEntryLimit),
		droppedNotRunning: dropped.WithLabelValues(dropNotRunning),
	}
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "queue_bytes",
		Help: "Bytes of decoded messages waiting for the consumer.",
	}, func() float64 { return float64(queuedBytes.Load()) })
	t.collectors = []prometheus.Collector{
		t.messages, t.malformed, t.truncated, t.streams, t.streamsOpen, entries, dropped, queued,
	}
	return t
}

// observe counts a message that decoded.
func (t *telemetry) observe(b *Batch) {
	t.messages.Inc()
	t.httpEntries.Add(float64(len(b.Records) + b.Dropped))
	if b.TCPEntries > 0 {
		t.tcpEntries.Add(float64(b.TCPEntries))
	}
	if b.Dropped > 0 {
		t.droppedEntryLimit.Add(float64(b.Dropped))
	}
	if b.Truncated > 0 {
		t.truncated.Add(float64(b.Truncated))
	}
}

// Describe implements prometheus.Collector.
func (r *Receiver) Describe(ch chan<- *prometheus.Desc) { r.tel.collectors.Describe(ch) }

// Collect implements prometheus.Collector.
func (r *Receiver) Collect(ch chan<- prometheus.Metric) { r.tel.collectors.Collect(ch) }

var _ prometheus.Collector = (*Receiver)(nil)
