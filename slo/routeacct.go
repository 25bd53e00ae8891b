package slo

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"
)

// routeAcct is one route's counts. Events per objective are the route's requests; good
// availability events are requests less availBad; good latency events are the histogram's
// cumulative count at the threshold's bucket. So a request costs the same however many
// objectives its route has, except in the time slots. Records are counted through a tally
// (tally.go).
type routeAcct struct {
	spec     routeSpec
	created  time.Time
	codes    [numCodeClasses]atomic.Uint64
	availBad atomic.Uint64
	hist     *histogram
	latBad   []int32 // per classic bucket: how many thresholds lie below it
	latCol0  int
	rings    *rings  // nil for a route without objectives
	since    []int64 // per ring column: Unix ns when it began counting
}

func newRouteAcct(spec routeSpec, now time.Time) *routeAcct {
	ra := &routeAcct{
		spec:    spec,
		created: now,
		hist:    newHistogram(spec.bounds),
		latBad:  spec.latencyBad(),
		latCol0: spec.latencyCol0(),
	}
	if spec.hasWindows() {
		ra.rings = newRings(spec.tiers(), spec.width(), now.UnixNano())
		ra.since = make([]int64, spec.width())
		for i := range ra.since {
			ra.since[i] = now.UnixNano()
		}
	}
	return ra
}

// requests is the number of requests counted, by any class.
func (ra *routeAcct) requests() uint64 {
	var n uint64
	for i := range ra.codes {
		n += ra.codes[i].Load()
	}
	return n
}

func sortRoutes(rs []*route) {
	slices.SortFunc(rs, func(a, b *route) int { return cmp.Compare(a.name, b.name) })
}
