package slo

import (
	"sync"

	"github.com/edgetel/edgetel/als"
)

// A batch is counted in two steps: each record into a tally of its route, plain integers
// that only the batch's goroutine sees, then each tally into its route's atomics. A record
// used to cost a dozen atomic adds (code class, bad count, bucket, sum, and a slot in every
// time tier); now it costs one (its native bucket, of which there are too many to tally),
// and a batch costs a dozen per route it touched. The tallies are added under the same
// read lock as before, so a scrape still sees whole batches: good never exceeds total and a
// histogram's count agrees with its buckets.

// tally is one route's counts from the batch being counted.
type tally struct {
	ra       *routeAcct
	pos      int // the route's position in the batch's table, -1 when found by name
	codes    [numCodeClasses]uint64
	availBad uint64
	sumUS    uint64
	buckets  []uint64 // per classic bucket
	cols     []uint64 // per ring column; empty for a route without objectives
}

// tallies is a batch's tallies, one per route it touched, and the counters they use.
// Pooled: the delivery goroutines count batches concurrently, each with its own.
type tallies struct {
	ts    []tally
	cells []uint64
	// at is, by route position in the batch's table, 1 + the index in ts of the route's
	// tally, 0 when it has none yet: zero again after each batch.
	at []int32
}

var talliesPool = sync.Pool{New: func() any { return new(tallies) }}

// of returns the tally of ra, at position pos in the batch's table (-1 for none), making
// it if the batch has not touched ra yet. A record with a position finds it by that: a
// search of the batch's tallies, whose end moves with each record's route, was a branch
// mispredicted on most records. The search is left to the first record of a route and to
// those without a position.
func (b *tallies) of(ra *routeAcct, pos int) *tally {
	if pos >= 0 {
		if pos >= len(b.at) {
			b.at = append(b.at, make([]int32, pos+1-len(b.at))...)
		}
		if i := b.at[pos]; i > 0 {
			return &b.ts[i-1]
		}
	}
	i := b.find(ra)
	if t := &b.ts[i]; pos >= 0 && t.pos < 0 {
		t.pos, b.at[pos] = pos, int32(i+1)
	}
	return &b.ts[i]
}

// find returns the index of ra's tally, making it if the batch has not touched ra yet.
func (b *tallies) find(ra *routeAcct) int {
	for i := range b.ts {
		if b.ts[i].ra == ra {
			return i
		}
	}
	nb, nc := len(ra.hist.counts), 0
	if ra.rings != nil {
		nc = ra.rings.width
	}
	start := len(b.cells)
	b.cells = append(b.cells, make([]uint64, nb+nc)...) // no allocation once the pool is warm
	cells := b.cells[start:]
	// If append moved cells, earlier tallies keep the old array: their counts are theirs.
	b.ts = append(b.ts, tally{ra: ra, pos: -1, buckets: cells[:nb:nb], cols: cells[nb:]})
	return len(b.ts) - 1
}

// observe counts one record received at now (Unix ns).
func (t *tally) observe(r *als.Record, now int64) {
	ra := t.ra
	t.codes[codeClass(r.Status)]++
	good := AvailabilityGood(r.Status, r.Flags)
	if !good {
		t.availBad++
	}
	d := max(int64(r.Duration), 0)
	b := ra.hist.observeNative(d)
	t.buckets[b]++
	t.sumUS += micros(d)
	nLat := int(ra.latBad[b])
	if len(t.cols) > 0 {
		t.cols[0]++
		if !good && ra.spec.avail {
			t.cols[1]++
		}
		for j := range nLat {
			t.cols[ra.latCol0+j]++
		}
	}
	// An exemplar is only worth its link if the trace is in the tracing backend: sampled
	// traces are, and so is every request that broke an objective (tracing builds a span for
	// it from the access log).
	if r.HasTrace && (r.Sampled || !good || nLat > 0) {
		ra.hist.ex[b].offer(r, d, now)
	}
}

// flush adds the tally to its route's counters, at time now whose finest slot is slot0.
func (t *tally) flush(now, slot0 int64) {
	ra := t.ra
	for i, n := range t.codes {
		if n > 0 {
			ra.codes[i].Add(n)
		}
	}
	if t.availBad > 0 {
		ra.availBad.Add(t.availBad)
	}
	for b, n := range t.buckets {
		if n > 0 {
			ra.hist.counts[b].Add(n)
		}
	}
	ra.hist.sumUS.Add(t.sumUS)
	if ra.rings != nil {
		ra.rings.add(now, slot0, t.cols)
	}
}

// flush adds every tally to its route and empties b for the next batch.
func (b *tallies) flush(now, slot0 int64) {
	for i := range b.ts {
		b.ts[i].flush(now, slot0)
		if p := b.ts[i].pos; p >= 0 {
			b.at[p] = 0
		}
		b.ts[i] = tally{}
	}
	b.ts, b.cells = b.ts[:0], b.cells[:0]
}
