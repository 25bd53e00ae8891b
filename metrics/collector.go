package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The Descs of every metric the Store exports; docs/metrics.md documents them.
var (
	upstreamRequestsDesc = clusterDesc("edgetel_envoy_cluster_upstream_rq_total",
		"Requests Envoy attached to an upstream connection of the cluster, each retry again "+
			"(Envoy's cluster.upstream_rq_total), summed over the nodes.")
	retriesDesc = clusterDesc("edgetel_envoy_cluster_upstream_rq_retry_total",
		"Retries Envoy made to the cluster (cluster.upstream_rq_retry).")
	retrySuccessesDesc = clusterDesc("edgetel_envoy_cluster_upstream_rq_retry_success_total",
		"Retries that succeeded (cluster.upstream_rq_retry_success).")
	timeoutsDesc = clusterDesc("edgetel_envoy_cluster_upstream_rq_timeout_total",
		"Requests whose route timeout fired while waiting for the cluster (cluster.upstream_rq_timeout).")
	perTryTimeoutsDesc = clusterDesc("edgetel_envoy_cluster_upstream_rq_per_try_timeout_total",
		"Attempts that hit the retry policy's per-try timeout (cluster.upstream_rq_per_try_timeout).")
	overflowsDesc = prometheus.NewDesc("edgetel_envoy_cluster_overflow_total",
		"Requests or retries refused by the cluster's circuit breakers, by kind: connection "+
			"(cluster.upstream_cx_overflow), pending (cluster.upstream_rq_pending_overflow), "+
			"retry (cluster.upstream_rq_retry_overflow).",
		[]string{"cluster", "kind"}, nil)
	ejectionsDesc = clusterDesc("edgetel_envoy_cluster_outlier_ejections_total",
		"Hosts of the cluster ejected by outlier detection (cluster.outlier_detection.ejections_enforced_total).")
	ejectionsActiveDesc = clusterDesc("edgetel_envoy_cluster_outlier_ejections_active",
		"Hosts of the cluster ejected now (cluster.outlier_detection.ejections_active), "+
			"summed over the nodes with a stats stream open.")
	entriesDesc = prometheus.NewDesc("edgetel_access_log_entries_total",
		"Access-log entries received per cluster, by whether Envoy sent the request upstream "+
			"(sent) or answered it itself (not_sent: connect failures, overflows, local replies).",
		[]string{"cluster", "upstream"}, nil)
	completenessDesc = clusterDesc("edgetel_access_log_completeness_ratio",
		"Access-log entries received per request Envoy counted (upstream_rq_total minus "+
			"retries), paired per node and flush, over the completeness window. Below 1: "+
			"access logs were lost. Absent while the window holds no request.")
	routeClusterDesc = prometheus.NewDesc("edgetel_route_cluster_info",
		"The cluster each route sends to, always 1: join on cluster for a route's view of "+
			"the cluster's numbers, which routes sharing the cluster share.",
		[]string{"route", "cluster"}, nil)
	unknownEntriesDesc = prometheus.NewDesc("edgetel_access_log_unknown_cluster_entries_total",
		"Access-log entries naming a cluster the sink's model does not have, counted nowhere "+
			"else: Envoy and the sink disagree on the policies.",
		nil, nil)
)

func clusterDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, []string{"cluster"}, nil)
}

var storeDescs = []*prometheus.Desc{
	upstreamRequestsDesc, retriesDesc, retrySuccessesDesc, timeoutsDesc, perTryTimeoutsDesc,
	overflowsDesc, ejectionsDesc, ejectionsActiveDesc, entriesDesc, completenessDesc,
	routeClusterDesc, unknownEntriesDesc,
}

var _ prometheus.Collector = (*Store)(nil)

// Describe implements prometheus.Collector.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range storeDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it mirrors the store at one instant. Every
// cluster of the model has every counter, zero or not, so that rate() works from the start.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(unknownEntriesDesc, prometheus.CounterValue, float64(s.UnknownEntries()))
	for _, c := range s.Clusters() {
		collectCluster(ch, &c)
	}
}

func collectCluster(ch chan<- prometheus.Metric, c *ClusterStats) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(d, prometheus.CounterValue,
			float64(v), c.Since, append([]string{c.Cluster}, labels...)...)
	}
	counter(upstreamRequestsDesc, c.UpstreamRequests)
	counter(retriesDesc, c.Retries)
	counter(retrySuccessesDesc, c.RetrySuccesses)
	counter(timeoutsDesc, c.Timeouts)
	counter(perTryTimeoutsDesc, c.PerTryTimeouts)
	counter(overflowsDesc, c.ConnectionOverflows, "connection")
	counter(overflowsDesc, c.PendingOverflows, "pending")
	counter(overflowsDesc, c.RetryOverflows, "retry")
	counter(ejectionsDesc, c.OutlierEjections)
	counter(entriesDesc, c.EntriesSentUpstream, "sent")
	counter(entriesDesc, c.EntriesNotSentUpstream, "not_sent")
	ch <- prometheus.MustNewConstMetric(ejectionsActiveDesc, prometheus.GaugeValue,
		float64(c.OutlierEjectionsActive), c.Cluster)
	if ratio, ok := c.Completeness(); ok {
		ch <- prometheus.MustNewConstMetric(completenessDesc, prometheus.GaugeValue, ratio, c.Cluster)
	}
	for _, r := range c.Routes {
		ch <- prometheus.MustNewConstMetric(routeClusterDesc, prometheus.GaugeValue, 1, r, c.Cluster)
	}
}
