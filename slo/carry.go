package slo

import "slices"

// carryFrom moves the counts of old, a route's state before a model swap changed its
// thresholds or SLO window, into ra. The caller holds the accountant's write lock: no
// record is being counted.
//
// What Prometheus sees stays continuous: requests, availability and the native histogram
// carry over as they are. Classic buckets keep their counts for every bound in both
// layouts; a new bound starts from the count at the next lower old bound (its series is new,
// so Prometheus takes that as its starting value, not as an increase). The time slots carry
// over for every column in both layouts; a new column starts now, and its windows report
// over the data they have.
func (ra *routeAcct) carryFrom(old *routeAcct) {
	ra.created = old.created
	for i := range ra.codes {
		ra.codes[i].Store(old.codes[i].Load())
	}
	ra.availBad.Store(old.availBad.Load())
	ra.hist.carryFrom(old.hist)
	if ra.rings == nil || old.rings == nil {
		return
	}
	// Streams may have moved old into newer slots since ra was built: catch up first, or the
	// newest slots would fall outside ra's rings.
	ra.rings.advance(old.rings.tiers[0].head * old.rings.tiers[0].res)
	cols := columnMap(&old.spec, &ra.spec)
	for oc, nc := range cols {
		if nc >= 0 {
			ra.since[nc] = old.since[oc]
		}
	}
	for k := range ra.rings.tiers {
		t := &ra.rings.tiers[k]
		t.rebin(sourceTier(old.rings, t.res), old.rings.width, ra.rings.width, cols)
	}
}

// columnMap maps each of old's ring columns to its column in spec s, or -1.
func columnMap(old, s *routeSpec) []int {
	m := make([]int, old.width())
	m[0] = 0
	for i := 1; i < len(m); i++ {
		m[i] = -1
	}
	if old.avail && s.avail {
		m[1] = 1
	}
	for j, thr := range old.thresholds {
		if k, ok := slices.BinarySearch(s.thresholds, thr); ok {
			m[old.latencyCol0()+j] = s.latencyCol0() + k
		}
	}
	return m
}

// sourceTier picks the old tier to fill a new tier of resolution res from: the one of the
// same resolution, else the longest whose resolution divides res (slots then merge exactly),
// else the longest (its slots land in the new slot where they start).
func sourceTier(old *rings, res int64) *ring {
	var best *ring
	for k := range old.tiers {
		t := &old.tiers[k]
		if t.res == res {
			return t
		}
		if res%t.res == 0 && (best == nil || t.span() > best.span()) {
			best = t
		}
	}
	if best == nil {
		best = &old.tiers[len(old.tiers)-1]
	}
	return best
}

// rebin adds the slots of src that t still covers into t, column by column.
func (t *ring) rebin(src *ring, srcWidth, width int, cols []int) {
	for i := max(src.head-src.n+1, 0); i <= src.head; i++ {
		j := i * src.res / t.res
		if j > t.head || j <= t.head-t.n {
			continue
		}
		from := src.c[i%src.n*int64(srcWidth):]
		to := t.c[j%t.n*int64(width):]
		for oc, nc := range cols {
			if nc >= 0 {
				to[nc].Add(from[oc].Load())
			}
		}
	}
}

// carryFrom moves old's counts into h, whose bounds differ.
func (h *histogram) carryFrom(old *histogram) {
	for i := range h.native {
		h.native[i].Store(old.native[i].Load())
	}
	h.zero.Store(old.zero.Load())
	h.sumUS.Store(old.sumUS.Load())
	// The cumulative count at each new bound is the old one at the largest old bound not
	// above it; the per-bucket counts are its differences.
	var prev, cum uint64
	ob := 0
	for b := range h.bounds {
		for ob < len(old.bounds) && old.bounds[ob] <= h.bounds[b] {
			cum += old.counts[ob].Load()
			ob++
		}
		h.counts[b].Store(cum - prev)
		prev = cum
	}
	for ; ob < len(old.counts); ob++ {
		cum += old.counts[ob].Load()
	}
	h.counts[len(h.bounds)].Store(cum - prev)
	for i := range old.ex {
		e := &old.ex[i]
		if ts := e.ts.Load(); ts != 0 {
			b, _ := slices.BinarySearch(h.bounds, e.value)
			h.ex[b].keepNewer(&e.trace, e.value, ts)
		}
	}
}
