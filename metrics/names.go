package metrics

// The Envoy stats edgetel keeps, as Envoy's metrics-service sink names them with
// emit_tags_as_labels: true. The sink then sends one MetricFamily per stat whose name is the
// stat's tag-extracted name, and the extracted tags as the labels of its one Metric, each
// under the tag's own name. So the cluster stat "cluster.ext_127_0_0_1_9004.upstream_rq_retry"
// arrives as the family "cluster.upstream_rq_retry" with the label
// envoy.cluster_name="ext_127_0_0_1_9004". The label name keeps its dot: only Envoy's
// Prometheus admin endpoint rewrites tag names to envoy_cluster_name.
//
// Sources: Envoy's MetricsFlusher::populateMetricsFamily
// (source/extensions/stat_sinks/metrics_service/grpc_metrics_service_impl.cc), which sets the
// family name to tagExtractedName() and one label per tag; and the default tag extractor
// CLUSTER_NAME, "^cluster\.(([^\.]+)\.)" under the tag name "envoy.cluster_name"
// (source/common/config/well_known_names.*). The extractor stops at the first dot, which is
// why edgetel's cluster names have none.
const (
	// ClusterNameLabel is the label that carries the cluster of a cluster stat.
	ClusterNameLabel = "envoy.cluster_name"

	StatUpstreamRequests       = "cluster.upstream_rq_total"
	StatRetries                = "cluster.upstream_rq_retry"
	StatRetrySuccesses         = "cluster.upstream_rq_retry_success"
	StatRetryOverflows         = "cluster.upstream_rq_retry_overflow"
	StatTimeouts               = "cluster.upstream_rq_timeout"
	StatPerTryTimeouts         = "cluster.upstream_rq_per_try_timeout"
	StatConnectionOverflows    = "cluster.upstream_cx_overflow"
	StatPendingOverflows       = "cluster.upstream_rq_pending_overflow"
	StatOutlierEjections       = "cluster.outlier_detection.ejections_enforced_total"
	StatOutlierEjectionsActive = "cluster.outlier_detection.ejections_active"
)

// stat identifies a kept Envoy stat. Counters come first, so that they index an array.
type stat uint8

const (
	statUpstreamRequests stat = iota
	statRetries
	statRetrySuccesses
	statRetryOverflows
	statTimeouts
	statPerTryTimeouts
	statConnectionOverflows
	statPendingOverflows
	statOutlierEjections
	numCounters

	statOutlierEjectionsActive = numCounters // the one gauge
)

// statOf returns the kept stat a family name stands for. The switch on string(name) does not
// allocate: Envoy sends thousands of families per flush, and most are skipped here.
func statOf(name []byte) (stat, bool) {
	switch string(name) {
	case StatUpstreamRequests:
		return statUpstreamRequests, true
	case StatRetries:
		return statRetries, true
	case StatRetrySuccesses:
		return statRetrySuccesses, true
	case StatRetryOverflows:
		return statRetryOverflows, true
	case StatTimeouts:
		return statTimeouts, true
	case StatPerTryTimeouts:
		return statPerTryTimeouts, true
	case StatConnectionOverflows:
		return statConnectionOverflows, true
	case StatPendingOverflows:
		return statPendingOverflows, true
	case StatOutlierEjections:
		return statOutlierEjections, true
	case StatOutlierEjectionsActive:
		return statOutlierEjectionsActive, true
	}
	return 0, false
}

func (s stat) isGauge() bool { return s == statOutlierEjectionsActive }

// The clusters of the bootstrap that edgetel itself configures (xds.SinkCluster and
// xds.XDSCluster). Every Envoy reports stats for them, and they are no route's cluster: they
// are skipped without being counted as unknown, which would make that counter grow for good.
// A test holds them equal to the xds constants.
const (
	sinkCluster = "edgetel_sink"
	xdsCluster  = "edgetel_xds"
)

func isOwnCluster(name []byte) bool {
	return string(name) == sinkCluster || string(name) == xdsCluster
}
