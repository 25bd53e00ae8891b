package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edgetel/edgetel/als"
)

func TestTheStoreExportsExactlyThis(t *testing.T) {
	clock := newFakeClock(t0)
	s := newTestStore(t, clock)
	f := s.newFeed()
	send(t, f, message("edge-0", gaugeFamily(StatOutlierEjectionsActive, cartCluster, 1)))
	refused := entry("edge-0", checkoutCluster)
	refused.Flags = als.FlagUpstreamOverflow
	s.ConsumeRecords(append(entries(3, "edge-0", checkoutCluster), refused, entry("edge-0", "ext_gone_1")))
	clock.advance(10 * time.Second)
	send(t, f, message("",
		counterFamily(StatUpstreamRequests, checkoutCluster, 5), counterFamily(StatRetries, checkoutCluster, 1),
		counterFamily(StatRetrySuccesses, checkoutCluster, 1), counterFamily(StatTimeouts, checkoutCluster, 2),
		counterFamily(StatPerTryTimeouts, checkoutCluster, 3), counterFamily(StatConnectionOverflows, cartCluster, 4),
		counterFamily(StatPendingOverflows, checkoutCluster, 1), counterFamily(StatRetryOverflows, cartCluster, 6),
		counterFamily(StatOutlierEjections, cartCluster, 2)))

	const want = `
# HELP edgetel_access_log_completeness_ratio Access-log entries received per request Envoy counted (upstream_rq_total minus retries), paired per node and flush, over the completeness window. Below 1: access logs were lost. Absent while the window holds no request.
# TYPE edgetel_access_log_completeness_ratio gauge
edgetel_access_log_completeness_ratio{cluster="ext_127_0_0_1_9004"} 0.75
# HELP edgetel_access_log_entries_total Access-log entries received per cluster, by whether Envoy sent the request upstream (sent) or answered it itself (not_sent: connect failures, overflows, local replies).
# TYPE edgetel_access_log_entries_total counter
edgetel_access_log_entries_total{cluster="ext_127_0_0_1_9003",upstream="not_sent"} 0
edgetel_access_log_entries_total{cluster="ext_127_0_0_1_9003",upstream="sent"} 0
edgetel_access_log_entries_total{cluster="ext_127_0_0_1_9004",upstream="not_sent"} 1
edgetel_access_log_entries_total{cluster="ext_127_0_0_1_9004",upstream="sent"} 3
# HELP edgetel_access_log_unknown_cluster_entries_total Access-log entries naming a cluster the sink's model does not have, counted nowhere else: Envoy and the sink disagree on the policies.
# TYPE edgetel_access_log_unknown_cluster_entries_total counter
edgetel_access_log_unknown_cluster_entries_total 1
# HELP edgetel_envoy_cluster_outlier_ejections_active Hosts of the cluster ejected now (cluster.outlier_detection.ejections_active), summed over the nodes with a stats stream open.
# TYPE edgetel_envoy_cluster_outlier_ejections_active gauge
edgetel_envoy_cluster_outlier_ejections_active{cluster="ext_127_0_0_1_9003"} 1
edgetel_envoy_cluster_outlier_ejections_active{cluster="ext_127_0_0_1_9004"} 0
# HELP edgetel_envoy_cluster_outlier_ejections_total Hosts of the cluster ejected by outlier detection (cluster.outlier_detection.ejections_enforced_total).
# TYPE edgetel_envoy_cluster_outlier_ejections_total counter
edgetel_envoy_cluster_outlier_ejections_total{cluster="ext_127_0_0_1_9003"} 2
edgetel_envoy_cluster_outlier_ejections_total{cluster="ext_127_0_0_1_9004"} 0
# HELP edgetel_envoy_cluster_overflow_total Requests or retries refused by the cluster's circuit breakers, by kind: connection (cluster.upstream_cx_overflow), pending (cluster.upstream_rq_pending_overflow), retry (cluster.upstream_rq_retry_overflow).
# TYPE edgetel_envoy_cluster_overflow_total counter
edgetel_envoy_cluster_overflow_total{cluster="ext_127_0_0_1_9003",kind="connection"} 4
edgetel_envoy_cluster_overflow_total{cluster="ext_127_0_0_1_9003",kind="pending"} 0
edgetel_envoy_cluster_overflow_total{cluster="ext_127_0_0_1_9003",kind="retry"} 6
edgetel_envoy_cluster_overflow_total{cluster="ext_127_0_0_1_9004",kind="connection"} 0
edgetel_envoy_cluster_overflow_total{cluster="ext_127_0_0_1_9004",kind="pending"} 1
edgetel_envoy_cluster_overflow_total{cluster="ext_127_0_0_1_9004",kind="retry"} 0
# HELP edgetel_envoy_cluster_upstream_rq_per_try_timeout_total Attempts that hit the retry policy's per-try timeout (cluster.upstream_rq_per_try_timeout).
# TYPE edgetel_envoy_cluster_upstream_rq_per_try_timeout_total counter
edgetel_envoy_cluster_upstream_rq_per_try_timeout_total{cluster="ext_127_0_0_1_9003"} 0
edgetel_envoy_cluster_upstream_rq_per_try_timeout_total{cluster="ext_127_0_0_1_9004"} 3
# HELP edgetel_envoy_cluster_upstream_rq_retry_success_total Retries that succeeded (cluster.upstream_rq_retry_success).
# TYPE edgetel_envoy_cluster_upstream_rq_retry_success_total counter
edgetel_envoy_cluster_upstream_rq_retry_success_total{cluster="ext_127_0_0_1_9003"} 0
edgetel_envoy_cluster_upstream_rq_retry_success_total{cluster="ext_127_0_0_1_9004"} 1
# HELP edgetel_envoy_cluster_upstream_rq_retry_total Retries Envoy made to the cluster (cluster.upstream_rq_retry).
# TYPE edgetel_envoy_cluster_upstream_rq_retry_total counter
edgetel_envoy_cluster_upstream_rq_retry_total{cluster="ext_127_0_0_1_9003"} 0
edgetel_envoy_cluster_upstream_rq_retry_total{cluster="ext_127_0_0_1_9004"} 1
# HELP edgetel_envoy_cluster_upstream_rq_timeout_total Requests whose route timeout fired while waiting for the cluster (cluster.upstream_rq_timeout).
# TYPE edgetel_envoy_cluster_upstream_rq_timeout_total counter
edgetel_envoy_cluster_upstream_rq_timeout_total{cluster="ext_127_0_0_1_9003"} 0
edgetel_envoy_cluster_upstream_rq_timeout_total{cluster="ext_127_0_0_1_9004"} 2
# HELP edgetel_envoy_cluster_upstream_rq_total Requests Envoy attached to an upstream connection of the cluster, each retry again (Envoy's cluster.upstream_rq_total), summed over the nodes.
# TYPE edgetel_envoy_cluster_upstream_rq_total counter
edgetel_envoy_cluster_upstream_rq_total{cluster="ext_127_0_0_1_9003"} 0
edgetel_envoy_cluster_upstream_rq_total{cluster="ext_127_0_0_1_9004"} 5
# HELP edgetel_route_cluster_info The cluster each route sends to, always 1: join on cluster for a route's view of the cluster's numbers, which routes sharing the cluster share.
# TYPE edgetel_route_cluster_info gauge
edgetel_route_cluster_info{cluster="ext_127_0_0_1_9003",route="shop/cart"} 1
edgetel_route_cluster_info{cluster="ext_127_0_0_1_9003",route="shop/cart-v2"} 1
edgetel_route_cluster_info{cluster="ext_127_0_0_1_9004",route="shop/checkout"} 1
`
	// CollectAndCompare registers the collector with a pedantic registry.
	if err := testutil.CollectAndCompare(s, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestTheReceiverExportsItsOwnTelemetryExactly(t *testing.T) {
	s := newTestStore(t, newFakeClock(t0))
	r, err := NewReceiver(Config{}, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := envoyStream{r: r, feed: s.newFeed()}
	for _, wire := range [][]byte{
		mustMarshal(t, message("edge-0", counterFamily(StatRetries, cartCluster, 1),
			counterFamily(StatRetries, "ext_gone_1", 1), gaugeFamily(StatRetries, cartCluster, 1))),
		{0x12, 0x7f}, // cut short
		{0x12, 0x7f},
	} {
		st.raw.Buf = wire
		st.receive()
	}
	const want = `
# HELP edgetel_envoy_stats_messages_malformed_total Messages rejected whole because they were not valid protobuf.
# TYPE edgetel_envoy_stats_messages_malformed_total counter
edgetel_envoy_stats_messages_malformed_total 2
# HELP edgetel_envoy_stats_messages_received_total StreamMetrics messages received from Envoy.
# TYPE edgetel_envoy_stats_messages_received_total counter
edgetel_envoy_stats_messages_received_total 3
# HELP edgetel_envoy_stats_samples_applied_total Samples of the stats edgetel keeps applied to a cluster of the model.
# TYPE edgetel_envoy_stats_samples_applied_total counter
edgetel_envoy_stats_samples_applied_total 1
# HELP edgetel_envoy_stats_samples_dropped_total Samples of the stats edgetel keeps that were not applied, by reason; for family_limit, families skipped unread.
# TYPE edgetel_envoy_stats_samples_dropped_total counter
edgetel_envoy_stats_samples_dropped_total{reason="bad_value"} 0
edgetel_envoy_stats_samples_dropped_total{reason="family_limit"} 0
edgetel_envoy_stats_samples_dropped_total{reason="label_limit"} 0
edgetel_envoy_stats_samples_dropped_total{reason="metric_limit"} 0
edgetel_envoy_stats_samples_dropped_total{reason="no_cluster_label"} 0
edgetel_envoy_stats_samples_dropped_total{reason="unknown_cluster"} 1
edgetel_envoy_stats_samples_dropped_total{reason="wrong_type"} 1
# HELP edgetel_envoy_stats_streams_open Metrics-service streams open now.
# TYPE edgetel_envoy_stats_streams_open gauge
edgetel_envoy_stats_streams_open 0
# HELP edgetel_envoy_stats_streams_total Metrics-service streams opened by Envoy.
# TYPE edgetel_envoy_stats_streams_total counter
edgetel_envoy_stats_streams_total 0
`
	if err := testutil.CollectAndCompare(r, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
