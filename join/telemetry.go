package join

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Stats are the join's counts since it was made. Arrays are indexed by Side (and Reason).
// Every input is counted once in Received and, once decided, once in Matched, Unmatched
// or Evicted; until then it is Pending. Refused inputs are in Refused only. So for each
// side: Received = Matched + Σ Unmatched + Evicted + Pending + Refused.
type Stats struct {
	Received [numSides]uint64
	// Matched counts pairs: one record and one span each.
	Matched uint64
	// Unmatched counts inputs emitted alone, by side and Reason (never ReasonMatched or
	// ReasonEvicted, which have their own counts).
	Unmatched [numSides][numReasons]uint64
	// Evicted counts inputs emitted alone because the table was full.
	Evicted [numSides]uint64
	// Pending is what waits in the table now.
	Pending [numSides]int
	// Refused counts inputs that came while the join was not running: not emitted.
	Refused [numSides]uint64
	// Dropped counts emitted items (a pair is one) that the consumer's queue had no room
	// for: decided and counted above, but never delivered.
	Dropped uint64
}

// Stats returns the join's counts now.
func (j *Join) Stats() Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.stats
	s.Pending = j.tbl.bySide
	return s
}

// Descriptions of the join's metrics.
var (
	descReceived = prometheus.NewDesc("edgetel_join_received_total",
		"Access-log records and spans given to the join, by side.", []string{"side"}, nil)
	descMatched = prometheus.NewDesc("edgetel_join_matched_total",
		"Records emitted with their span (pairs), matched by request ID.", nil, nil)
	descUnmatched = prometheus.NewDesc("edgetel_join_unmatched_total",
		"Records and spans emitted without a partner, by side and reason.", []string{"side", "reason"}, nil)
	descEvicted = prometheus.NewDesc("edgetel_join_evicted_total",
		"Records and spans emitted without a partner because the pending table was full and they were the oldest.",
		[]string{"side"}, nil)
	descPending = prometheus.NewDesc("edgetel_join_pending",
		"Records and spans waiting for their partner now.", []string{"side"}, nil)
	descRefused = prometheus.NewDesc("edgetel_join_refused_total",
		"Records and spans that reached the join while it was not running; not emitted.", []string{"side"}, nil)
	descDropped = prometheus.NewDesc("edgetel_join_items_dropped_total",
		"Emitted items (a pair counts one) dropped because the join's consumer was behind.", nil, nil)
)

// unmatchedReasons are the reasons of edgetel_join_unmatched_total.
var unmatchedReasons = []Reason{ReasonExpired, ReasonNoRequestID, ReasonNotSampled,
	ReasonDuplicate, ReasonShutdown}

// Describe implements prometheus.Collector.
func (j *Join) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReceived, descMatched, descUnmatched, descEvicted,
		descPending, descRefused, descDropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Every series is exported, zero or not.
func (j *Join) Collect(ch chan<- prometheus.Metric) {
	s := j.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descMatched, s.Matched)
	counter(descDropped, s.Dropped)
	for side := range numSides {
		name := side.String()
		counter(descReceived, s.Received[side], name)
		counter(descEvicted, s.Evicted[side], name)
		counter(descRefused, s.Refused[side], name)
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(s.Pending[side]), name)
		for _, r := range unmatchedReasons {
			if r == ReasonNotSampled && side == SideSpan {
				continue // only records can be known not to have a partner
			}
			counter(descUnmatched, s.Unmatched[side][r], name, r.String())
		}
	}
}

var _ prometheus.Collector = (*Join)(nil)
