package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/edgetel/edgetel/model"
)

// EnvoyStat is one Envoy cluster statistic as the sink's metrics-service receiver (package
// metrics) exports it: summed across Envoy nodes, one series per Envoy cluster with the label
// cluster = the model's Backend.Cluster. docs/metrics.md ("Envoy stats") documents them.
type EnvoyStat struct {
	// Metric is the exported name; Match adds label matchers (`,kind="pending"`).
	Metric, Match, Legend string
}

// EnvoyStats are the upstream events a route's dashboard shows for its cluster.
var EnvoyStats = []EnvoyStat{
	{"edgetel_envoy_cluster_upstream_rq_retry_total", "", "retries"},
	{"edgetel_envoy_cluster_overflow_total", `,kind="retry"`, "retry overflows"},
	{"edgetel_envoy_cluster_upstream_rq_timeout_total", "", "timeouts"},
	{"edgetel_envoy_cluster_upstream_rq_per_try_timeout_total", "", "per-try timeouts"},
	{"edgetel_envoy_cluster_overflow_total", `,kind=~"connection|pending"`, "circuit-breaker overflows"},
	{"edgetel_envoy_cluster_outlier_ejections_total", "", "outlier ejections"},
}

// EnvoyRequests is Envoy's count of the cluster's requests, the denominator of the
// access-log completeness ratio.
const EnvoyRequests = "edgetel_envoy_cluster_upstream_rq_total"

// upstreamPanels show the Envoy stats of the route's cluster, and how complete the access
// log is: entries the sink saw over the requests Envoy counted, for every route of the
// cluster (a cluster's stats cannot be told apart by route).
func upstreamPanels(b *dashboard.DashboardBuilder, p *panels, e *model.Edge, r *model.Route) {
	cluster := r.Backend.Cluster
	stats := timeseries.NewPanelBuilder().Id(p.next()).Title("Envoy upstream events").Datasource(promDS).
		Description("Envoy's own counters for cluster " + cluster + ", shared by every route to it.").
		Unit("ops").Span(12).Height(8)
	for i, s := range EnvoyStats {
		stats.WithTarget(prom(refID(i), p.promQL("envoy", map[string]any{"metric": s.Metric, "match": s.Match, "cluster": cluster}), s.Legend))
	}
	completeness := p.promQL("completeness", map[string]any{"cluster": cluster})
	b.WithRow(p.row("Upstream: cluster " + cluster)).
		WithPanel(stats).
		WithPanel(timeseries.NewPanelBuilder().Id(p.next()).Title("Access-log completeness").Datasource(promDS).
			Description("Access-log entries the sink received over the requests Envoy counted for cluster " + cluster +
				". Under 100%: access logs are being lost between Envoy and the sink.").
			Unit("percentunit").Span(12).Height(8).
			WithTarget(prom(refID(0), completeness, "completeness")))
}
