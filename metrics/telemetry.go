package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/internal/selftel"
)

// telemetry is the receiver's self-telemetry. Counters are resolved once here, so that
// counting costs an atomic add, not a label lookup.
type telemetry struct {
	collectors selftel.Collectors

	messages, malformed, applied prometheus.Counter
	streams                      prometheus.Counter
	streamsOpen                  prometheus.Gauge
	dropped                      [numReasons]prometheus.Counter
}

func newTelemetry() *telemetry {
	const ns, sub = "edgetel", "envoy_stats"
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "samples_dropped_total",
		Help: "Samples of the stats edgetel keeps that were not applied, by reason; for family_limit, families skipped unread.",
	}, []string{"reason"})
	t := &telemetry{
		messages:  counter("messages_received_total", "StreamMetrics messages received from Envoy."),
		malformed: counter("messages_malformed_total", "Messages rejected whole because they were not valid protobuf."),
		applied:   counter("samples_applied_total", "Samples of the stats edgetel keeps applied to a cluster of the model."),
		streams:   counter("streams_total", "Metrics-service streams opened by Envoy."),
		streamsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "streams_open", Help: "Metrics-service streams open now.",
		}),
	}
	for r := range numReasons {
		t.dropped[r] = dropped.WithLabelValues(reasonNames[r])
	}
	t.collectors = []prometheus.Collector{t.messages, t.malformed, t.applied, t.streams, t.streamsOpen, dropped}
	return t
}

// observe counts a message that decoded and was applied.
func (t *telemetry) observe(d *decoded, applied, unknown int) {
	t.messages.Inc()
	if applied > 0 {
		t.applied.Add(float64(applied))
	}
	d.dropped[reasonUnknownCluster] += unknown
	for r, n := range d.dropped {
		if n > 0 {
			t.dropped[r].Add(float64(n))
		}
	}
}

// Describe implements prometheus.Collector.
func (r *Receiver) Describe(ch chan<- *prometheus.Desc) { r.tel.collectors.Describe(ch) }

// Collect implements prometheus.Collector.
func (r *Receiver) Collect(ch chan<- prometheus.Metric) { r.tel.collectors.Collect(ch) }

var _ prometheus.Collector = (*Receiver)(nil)
