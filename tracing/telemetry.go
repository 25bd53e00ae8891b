package tracing

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/internal/selftel"
)

// Reasons in edgetel_tracing_spans_rejected_total and edgetel_tracing_spans_dropped_total.
const (
	rejectInvalidID = "invalid_id"  // an all-zero trace or span ID
	rejectSpanLimit = "span_limit"  // past MaxSpansPerRequest in one request
	dropQueueFull   = "queue_full"  // the consumer is behind: queue or its byte budget full
	dropNotRunning  = "not_running" // arrived before Start or after Shutdown
)

const telemetryNS, telemetrySubsys = "edgetel", "tracing"

// telemetry is the receiver's self-telemetry. Counters on the hot path are resolved once
// here, so that counting costs an atomic add per request, not a label lookup.
type telemetry struct {
	collectors selftel.Collectors

	requests, malformed, received, truncated prometheus.Counter
	rejectedInvalid, rejectedLimit           prometheus.Counter
	droppedQueueFull, droppedNotRunning      prometheus.Counter
}

func newTelemetry(queuedBytes *atomic.Int64) *telemetry {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: telemetryNS, Subsystem: telemetrySubsys, Name: name, Help: help,
		})
	}
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetryNS, Subsystem: telemetrySubsys, Name: "spans_rejected_total",
		Help: "Spans refused by the receiver, by reason; the sender is told in the response's partial success.",
	}, []string{"reason"})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetryNS, Subsystem: telemetrySubsys, Name: "spans_dropped_total",
		Help: "Spans received but not given to the consumer, by reason; the sender is told (partial success, or Unavailable when not running).",
	}, []string{"reason"})
	t := &telemetry{
		requests:          counter("requests_total", "OTLP Export requests that decoded."),
		malformed:         counter("requests_malformed_total", "Export requests refused whole (InvalidArgument) because they did not decode."),
		received:          counter("spans_received_total", "Spans in Export requests that decoded, including those then rejected or dropped."),
		truncated:         counter("values_truncated_total", "String attribute values cut to the configured maximum length."),
		rejectedInvalid:   rejected.WithLabelValues(rejectInvalidID),
		rejectedLimit:     rejected.WithLabelValues(rejectSpanLimit),
		droppedQueueFull:  dropped.WithLabelValues(dropQueueFull),
		droppedNotRunning: dropped.WithLabelValues(dropNotRunning),
	}
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: telemetryNS, Subsystem: telemetrySubsys, Name: "queue_bytes",
		Help: "Bytes of accepted requests waiting for the consumer (wire size plus decoded spans).",
	}, func() float64 { return float64(queuedBytes.Load()) })
	t.collectors = []prometheus.Collector{
		t.requests, t.malformed, t.received, t.truncated, rejected, dropped, queued,
	}
	return t
}

// observe counts what extract did to a request.
func (t *telemetry) observe(x extracted) {
	if x.invalid > 0 {
		t.rejectedInvalid.Add(float64(x.invalid))
	}
	if x.overLimit > 0 {
		t.rejectedLimit.Add(float64(x.overLimit))
	}
	if x.truncated > 0 {
		t.truncated.Add(float64(x.truncated))
	}
}

// Describe implements prometheus.Collector.
func (r *Receiver) Describe(ch chan<- *prometheus.Desc) { r.tel.collectors.Describe(ch) }

// Collect implements prometheus.Collector.
func (r *Receiver) Collect(ch chan<- prometheus.Metric) { r.tel.collectors.Collect(ch) }

var _ prometheus.Collector = (*Receiver)(nil)
