// Package selftel holds what the components' self-telemetry shares.
package selftel

import "github.com/prometheus/client_golang/prometheus"

// Collectors are a component's self-telemetry metrics. A component that is a
// prometheus.Collector hands its Describe and Collect to them.
type Collectors []prometheus.Collector

// Describe describes every member.
func (cs Collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

// Collect collects every member.
func (cs Collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}
