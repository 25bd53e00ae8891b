package slo

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/model"
)

// The Descs of every metric the accountant exports; docs/metrics.md documents them.
var (
	requestsDesc = prometheus.NewDesc("edgetel_requests_total",
		"Requests by route and status class, from Envoy's access log. code_class 0 is a "+
			"request that got no response; other is a status outside 100-599.",
		[]string{"route", "code_class"}, nil)
	durationDesc = prometheus.NewDesc("edgetel_request_duration_seconds",
		"Request duration, first byte received to last byte sent, by route. Classic buckets "+
			"include every latency threshold of the route; exemplars carry trace_id.",
		[]string{"route"}, nil)
	eventsDesc = prometheus.NewDesc("edgetel_slo_events_total",
		"Events counted for an SLO objective: every request of the route.",
		[]string{"route", "objective"}, nil)
	goodEventsDesc = prometheus.NewDesc("edgetel_slo_good_events_total",
		"Good events of an SLO objective: availability, neither 5xx nor an Envoy local "+
			"failure; latency, at or under the threshold.",
		[]string{"route", "objective"}, nil)
	objectiveDesc = prometheus.NewDesc("edgetel_slo_objective_ratio",
		"Target of an SLO objective, as the ratio of good events.",
		[]string{"route", "objective", "indicator"}, nil)
	thresholdDesc = prometheus.NewDesc("edgetel_slo_latency_threshold_seconds",
		"Latency at or under which a request is good for a latency objective.",
		[]string{"route", "objective"}, nil)
	windowDesc = prometheus.NewDesc("edgetel_slo_window_seconds",
		"SLO window of a route's objectives.",
		[]string{"route"}, nil)
	burnRateDesc = prometheus.NewDesc("edgetel_slo_burn_rate",
		"Error-budget burn rate over a window, computed in the sink: error ratio over "+
			"(1 - target). 1 spends the budget exactly over the SLO window.",
		[]string{"route", "objective", "window"}, nil)
	budgetDesc = prometheus.NewDesc("edgetel_slo_error_budget_remaining_ratio",
		"Fraction of the error budget left over the SLO window, computed in the sink; 1 "+
			"with no traffic, negative when overspent.",
		[]string{"route", "objective"}, nil)
	startDesc = prometheus.NewDesc("edgetel_slo_accounting_start_timestamp_seconds",
		"When the sink's in-process windows of an objective began to hold data; a window is "+
			"filled once it lies wholly after this time.",
		[]string{"route", "objective"}, nil)
	unknownDesc = prometheus.NewDesc("edgetel_slo_unknown_route_records_total",
		"Access-log records naming a route the sink's model does not have, counted as "+
			"unmatched: Envoy and the sink disagree on the policies.",
		nil, nil)
)

var allDescs = []*prometheus.Desc{
	requestsDesc, durationDesc, eventsDesc, goodEventsDesc, objectiveDesc, thresholdDesc,
	windowDesc, burnRateDesc, budgetDesc, startDesc, unknownDesc,
}

var _ prometheus.Collector = (*Accountant)(nil)

// Describe implements prometheus.Collector.
func (a *Accountant) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it mirrors the accountant's state at one instant.
// Exemplars reach Prometheus only over OpenMetrics or protobuf, and native buckets only
// over protobuf (promhttp.HandlerOpts{EnableOpenMetrics: true} negotiates both).
func (a *Accountant) Collect(ch chan<- prometheus.Metric) {
	snaps, unknown := a.snapshot()
	ch <- prometheus.MustNewConstMetric(unknownDesc, prometheus.CounterValue, float64(unknown))
	for i := range snaps {
		collectRoute(ch, &snaps[i])
	}
}

func collectRoute(ch chan<- prometheus.Metric, s *routeSnap) {
	for c, n := range s.Requests {
		ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(requestsDesc,
			prometheus.CounterValue, float64(n), s.Since, s.Route, CodeClasses[c])
	}
	ch <- s.hist.metric(durationDesc, s.Since, s.Route)
	if len(s.Objectives) > 0 {
		ch <- gauge(windowDesc, s.Window.Seconds(), s.Route)
	}
	for j := range s.Objectives {
		collectObjective(ch, s.Route, s.Since, &s.Objectives[j])
	}
}

func collectObjective(ch chan<- prometheus.Metric, route string, since time.Time, o *ObjectiveStatus) {
	ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(eventsDesc,
		prometheus.CounterValue, float64(o.Events), since, route, o.Name)
	ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(goodEventsDesc,
		prometheus.CounterValue, float64(o.Good), since, route, o.Name)
	ch <- gauge(objectiveDesc, o.Target, route, o.Name, string(o.Indicator))
	if o.Indicator == model.Latency {
		ch <- gauge(thresholdDesc, o.Threshold.Seconds(), route, o.Name)
	}
	for k := range o.BurnRates {
		ch <- gauge(burnRateDesc, o.BurnRates[k].BurnRate, route, o.Name, windowLabels[k])
	}
	ch <- gauge(budgetDesc, o.BudgetRemaining, route, o.Name)
	ch <- gauge(startDesc, float64(o.Since.UnixNano())/1e9, route, o.Name)
}

func gauge(d *prometheus.Desc, v float64, labelValues ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labelValues...)
}
