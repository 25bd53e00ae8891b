// Package metrics receives Envoy's stats over the metrics service
// (envoy.service.metrics.v3.MetricsService) and joins them to the model's routes through
// their clusters: retries, timeouts, circuit-breaker overflows and outlier ejections per
// cluster, and a completeness ratio per cluster (access-log entries received ÷ requests
// Envoy counted) that shows access-log loss.
//
// # What Envoy sends
//
// edgetel's bootstrap configures the envoy.stat_sinks.metrics_service sink with
// report_counters_as_deltas and emit_tags_as_labels, flushing every 10s. Each flush is one
// StreamMetricsMessage (or several, with batch_size) holding one MetricFamily per stat Envoy
// has used, named by its tag-extracted name with the tags as labels: see names.go for the
// exact names and where they come from. The stream's first message alone carries the
// identifier, whose node ID pairs the stats with the same node's access logs.
//
// # Decoding
//
// Receiver gets each message's bytes from gRPC without building it (rawMessage, as package
// als does) and decodes it with protowire: a family is skipped unparsed unless its name is
// one of the ten stats edgetel keeps, which is nearly every family of a flush, and nothing
// is allocated per family. Limits in Config bound what a message may cost; what they cut is
// counted by reason, and a message that is not valid protobuf is rejected whole.
//
// # The join
//
// Store holds the counts per model cluster, counts access-log entries per cluster as an
// als.Consumer (chained after the SLI accountant), and exports both as a
// prometheus.Collector. Its doc explains how the completeness ratio pairs the two signals.
package metrics
