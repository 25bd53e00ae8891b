package slo

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"

	"github.com/edgetel/edgetel/als"
)

// routeAcct is one route's counts. Events per objective are the route's requests; good
// availability events are requests less availBad; good latency events are the histogram's
// cumulative count at the threshold's bucket. So a request costs the same atomics however
// many objectives its route has, except in the time slots.
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

// observe counts one record received at now (Unix ns), whose finest time slot is slot0.
func (ra *routeAcct) observe(r *als.Record, now, slot0 int64) {
	ra.codes[codeClass(r.Status)].Add(1)
	good := AvailabilityGood(r.Status, r.Flags)
	if !good {
		ra.availBad.Add(1)
	}
	d := max(int64(r.Duration), 0)
	b := ra.hist.observe(d)
	nLat := int(ra.latBad[b])
	if ra.rings != nil {
		availCol := 0
		if !good && ra.spec.avail {
			availCol = 1
		}
		ra.rings.add(now, slot0, availCol, ra.latCol0, nLat)
	}
	// An exemplar is only worth its link if the trace is in the tracing backend: sampled
	// traces are, and so is every request that broke an objective (tracing builds a span for
	// it from the access log).
	if r.HasTrace && (r.Sampled || !good || nLat > 0) {
		ra.hist.ex[b].offer(&r.TraceID, d, now)
	}
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
