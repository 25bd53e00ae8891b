package slo

import (
	"sync"
	"sync/atomic"
)

// rings holds a route's counts in time slots at every tier's resolution: slot i of a tier
// covers [i·res, (i+1)·res) in Unix nanoseconds. A slot is width counters: requests, then
// one bad count per column of the routeSpec. Counting the requests once per route rather
// than once per objective keeps the hot path at one add per tier for a good request.
//
// Memory: 8 bytes × width × Σ n over the tiers, plus 56 bytes per tier. The fixed tiers hold
// 31+61+91+289 = 472 slots; a window over 3 days adds ⌈window/res⌉+1 ≤ 721 (673 for 28d).
// So each column — the route's requests, and each objective's bad count — costs
// 472×8 = 3,776 B for an SLO window of at most 3d, 1,145×8 = 9,160 B for 28d, and never
// more than 1,193×8 = 9,544 B. TestRingMemory checks these figures against the allocation.
//
// The hot path adds with atomics into the newest slot of every tier. Moving to a new slot
// (at most once per 10s per route) zeroes the slots being reused, under mu; readers take mu
// as well, so they never see a slot half zeroed.
type rings struct {
	width int
	head  atomic.Int64 // finest-tier slot index that the newest slots belong to
	mu    sync.Mutex
	tiers []ring
}

type ring struct {
	tierShape
	head int64           // slot index of the newest slot; guarded by rings.mu
	off  atomic.Int64    // index in c of the newest slot's first counter
	c    []atomic.Uint64 // n slots × width counters
}

func newRings(shapes []tierShape, width int, now int64) *rings {
	r := &rings{width: width, tiers: make([]ring, len(shapes))}
	for k, s := range shapes {
		t := &r.tiers[k]
		t.tierShape = s
		t.c = make([]atomic.Uint64, s.n*int64(width))
		t.head = now / s.res
		t.off.Store(t.head % s.n * int64(width))
	}
	r.head.Store(now / shapes[0].res)
	return r
}

// add adds counts, one per column, to the newest slot of every tier at time now, whose
// finest slot is slot0. A batch whose clock read lags another stream's counts into the
// newer slot: a few microseconds' skew is not worth a lock.
func (r *rings) add(now, slot0 int64, counts []uint64) {
	if r.head.Load() < slot0 {
		r.advance(now)
	}
	for k := range r.tiers {
		t := &r.tiers[k]
		s := t.c[t.off.Load():][:len(counts)]
		for j, n := range counts {
			if n > 0 {
				s[j].Add(n)
			}
		}
	}
}

// advance makes the slots of time now the newest of every tier. The finest head is stored
// last: a writer that sees it has moved finds every tier's offset moved too. Writers still
// adding through an old offset land in a slot that is at least one full ring (5 minutes) away
// from being reused, so nothing is lost short of a goroutine stalled that long mid-batch.
func (r *rings) advance(now int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slot0 := now / r.tiers[0].res
	if slot0 <= r.head.Load() {
		return
	}
	for k := range r.tiers {
		r.tiers[k].advance(now/r.tiers[k].res, r.width)
	}
	r.head.Store(slot0)
}

func (t *ring) advance(s int64, width int) {
	if s <= t.head {
		return
	}
	for i := t.head + 1; i <= s && i <= t.head+t.n; i++ {
		p := i % t.n * int64(width)
		for j := range int64(width) {
			t.c[p+j].Store(0)
		}
	}
	t.head = s
	t.off.Store(s % t.n * int64(width))
}

// sum returns the requests and the bad count of column col over [from, to], to being the
// reader's now; the caller holds rings.mu. Slots wholly inside count whole. The slot in
// which the window starts counts for the part of it inside the window, as if its events
// were spread evenly over it, the assumption PromQL's rate() makes between two samples.
// At a slot boundary the window is exact: 30m read at 12:30:00 is 12:00:00 to 12:30:00.
func (t *ring) sum(from, to int64, col, width int) (total, bad float64) {
	first, last := from/t.res, min(to/t.res, t.head) // slots after head hold nothing yet
	first = max(first, t.head-t.n+1)                 // slots before were reused
	for i := first; i <= last; i++ {
		p := i % t.n * int64(width)
		n, b := float64(t.c[p].Load()), float64(t.c[p+int64(col)].Load())
		if start := i * t.res; start < from {
			w := float64(start+t.res-from) / float64(t.res)
			n, b = n*w, b*w
		}
		total += n
		bad += b
	}
	return total, bad
}

// tierShapes returns the shapes of the tiers.
func (r *rings) tierShapes() []tierShape {
	out := make([]tierShape, len(r.tiers))
	for k := range r.tiers {
		out[k] = r.tiers[k].tierShape
	}
	return out
}
