package config

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	updatesDesc = prometheus.NewDesc("edgetel_config_updates_total",
		"Policy updates compiled: file changes, Kubernetes events and start-up.", nil, nil)
	refusedDesc = prometheus.NewDesc("edgetel_config_refused_total",
		"Compiled models refused by a consumer (the xDS translator's validation); the last good one stayed in force.", nil, nil)
	policiesDesc = prometheus.NewDesc("edgetel_config_policies",
		"Policies of the last update by verdict: accepted, rejected (nothing of it in force) or stale (rejected, its last good version in force).",
		[]string{"verdict"}, nil)
	generationDesc = prometheus.NewDesc("edgetel_config_generation",
		"Models taken into use since start; unchanged when an update is refused.", nil, nil)
	sourceErrorDesc = prometheus.NewDesc("edgetel_config_source_error",
		"1 when the last read of the policy source had problems (a file that does not parse).", nil, nil)
	routesDesc = prometheus.NewDesc("edgetel_config_routes",
		"Routes in force.", nil, nil)
)

// Describe implements prometheus.Collector.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{updatesDesc, refusedDesc, policiesDesc, generationDesc, sourceErrorDesc, routesDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector, mirroring the store's state.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	updates, refused := s.Counts()
	st := s.State()
	ch <- prometheus.MustNewConstMetric(updatesDesc, prometheus.CounterValue, float64(updates))
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(refused))
	var accepted, rejected, stale float64
	for _, v := range st.Verdicts {
		switch {
		case v.Accepted:
			accepted++
		case v.Stale:
			stale++
		default:
			rejected++
		}
	}
	ch <- prometheus.MustNewConstMetric(policiesDesc, prometheus.GaugeValue, accepted, "accepted")
	ch <- prometheus.MustNewConstMetric(policiesDesc, prometheus.GaugeValue, rejected, "rejected")
	ch <- prometheus.MustNewConstMetric(policiesDesc, prometheus.GaugeValue, stale, "stale")
	ch <- prometheus.MustNewConstMetric(generationDesc, prometheus.GaugeValue, float64(st.Generation))
	srcErr := 0.0
	if st.SourceErr != nil {
		srcErr = 1
	}
	ch <- prometheus.MustNewConstMetric(sourceErrorDesc, prometheus.GaugeValue, srcErr)
	routes := 0
	if st.Edge != nil {
		routes = len(st.Edge.Routes)
	}
	ch <- prometheus.MustNewConstMetric(routesDesc, prometheus.GaugeValue, float64(routes))
}

var _ prometheus.Collector = (*Store)(nil)
