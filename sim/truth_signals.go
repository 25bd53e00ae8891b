package sim

import (
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
)

// The recorder's side of the stats and spans (see signals).

// statsSent records a flush Send accepted, adding its deltas to the stats sent.
func (rec *recorder) statsSent(node string, msg *metricsv3.StreamMetricsMessage) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.node(node).StatsFlushes++
	for _, fam := range msg.GetEnvoyMetrics() {
		for _, m := range fam.GetMetric() {
			k := statKey{name: fam.GetName()}
			for _, l := range m.GetLabel() {
				if l.GetName() == clusterNameTag {
					k.cluster = l.GetValue()
				}
			}
			rec.stats[k] += uint64(m.GetCounter().GetValue())
		}
	}
}

// statsLost records a flush dropped; err is nil when no stream could be opened, which
// statsFailed already recorded.
func (rec *recorder) statsLost(node string, err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	nt := rec.node(node)
	nt.StatsLost++
	if err != nil {
		nt.LastSignalError = err.Error()
	}
}

// statsFailed records a metrics-service stream that could not be opened.
func (rec *recorder) statsFailed(node string, err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	nt := rec.node(node)
	nt.StatsFailures++
	nt.LastSignalError = err.Error()
}

func (rec *recorder) statsOpened(node string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.node(node).StatsStreams++
	rec.open++
}

// statsClosed records the end of a metrics-service stream that carried sent flushes; err
// is nil for a clean close.
func (rec *recorder) statsClosed(node string, sent uint64, err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.open--
	if err == nil {
		return
	}
	nt := rec.node(node)
	nt.StatsFailures++
	nt.StatsUnconfirmed += sent
	nt.LastSignalError = err.Error()
}

func (rec *recorder) spansSent(node string, n int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.node(node).SpansSent += uint64(n)
}

func (rec *recorder) spansLost(node string, n int, err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	nt := rec.node(node)
	nt.SpansLost += uint64(n)
	nt.LastSignalError = err.Error()
}
