package slo

import (
	"math"
	"slices"
	"sync/atomic"
)

// Native (exponential) buckets at schema 3: each bucket 2^(1/8) ≈ 9% wider than the one
// below, client_golang's default factor of 1.1. Bucket key k covers (2^((k-1)/8), 2^(k/8)]
// seconds. A fixed array of keys keeps observation lock- and allocation-free; it spans from
// the zero bucket's threshold (2^-20 s ≈ 0.95µs) to 2^20 s (≈ 12 days). The rare request
// longer than that is counted in the top bucket.
const (
	nativeSchema  = 3
	nativeMinKey  = -159 // (2^-20, 2^(-159/8)] s, the first bucket above the zero bucket
	nativeMaxKey  = 160  // (2^(159/8), 2^20] s
	nativeBuckets = nativeMaxKey - nativeMinKey + 1
)

// nativeZeroThreshold is in seconds: durations at or under it count in the zero bucket.
var nativeZeroThreshold = math.Ldexp(1, -20)

// nativeBounds are the schema-3 bucket boundaries within one power of two, as fractions in
// [0.5, 1), the same constants as client_golang's so that both put a value in one bucket.
var nativeBounds = [8]float64{
	0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048,
	0.7071067811865475, 0.7711054127039704, 0.8408964152537144, 0.9170040432046711,
}

// nativeIndex returns the index in histogram.native of duration d (ns), or false for the
// zero bucket.
func nativeIndex(d int64) (int, bool) {
	v := float64(d) / 1e9
	if v <= nativeZeroThreshold {
		return 0, false
	}
	frac, exp := math.Frexp(v) // v = frac × 2^exp, frac in [0.5, 1)
	i := 0
	for i < len(nativeBounds) && frac > nativeBounds[i] {
		i++
	}
	key := (exp-1)*len(nativeBounds) + i
	return min(key, nativeMaxKey) - nativeMinKey, true
}

// histogram is a route's request durations, as classic buckets (the route's thresholds among
// their bounds, so that good latency events are exactly a cumulative bucket) and as native
// buckets, with the latest exemplar of each classic bucket. Every field is an atomic or is
// guarded by one: many streams observe into one route at once.
type histogram struct {
	bounds []int64         // classic upper bounds, ns, ascending
	counts []atomic.Uint64 // per classic bucket, not cumulative; the last is +Inf
	ex     []exemplarSlot  // latest exemplar per classic bucket
	native []atomic.Uint64 // nativeBuckets
	zero   atomic.Uint64   // the native zero bucket
	sumUS  atomic.Uint64   // in µs: nanoseconds would wrap in two days at 1M req/s of 100ms
}

func newHistogram(bounds []int64) *histogram {
	return &histogram{
		bounds: bounds,
		counts: make([]atomic.Uint64, len(bounds)+1),
		ex:     make([]exemplarSlot, len(bounds)+1),
		native: make([]atomic.Uint64, nativeBuckets),
	}
}

// observeNative counts a duration of d ns in the native buckets and returns its classic
// bucket, which the caller counts along with the sum (see tally).
func (h *histogram) observeNative(d int64) int {
	b, _ := slices.BinarySearch(h.bounds, d) // the first bound >= d: le is inclusive
	if i, ok := nativeIndex(d); ok {
		h.native[i].Add(1)
	} else {
		h.zero.Add(1)
	}
	return b
}

// micros is d ns in whole microseconds, rounded, as the histogram sums durations.
func micros(d int64) uint64 { return uint64((d + 500) / 1000) }

// exemplarSlot holds one exemplar. busy makes a writer exclusive (a writer that finds it
// taken gives up: it would only have replaced an exemplar of the same instant); readers run
// under the accountant's write lock, when no writer is active.
type exemplarSlot struct {
	ts    atomic.Int64 // batch time that set it, Unix ns; 0 for none yet
	busy  atomic.Bool
	value int64    // duration, ns; guarded by busy
	trace [16]byte // guarded by busy
}

// offer makes the exemplar the slot's unless the slot already holds one from this batch:
// so the slot holds one from the latest batch, and a bucket is written at most once per
// batch however many of its records have traces.
func (e *exemplarSlot) offer(trace *[16]byte, d, now int64) {
	if e.ts.Load() >= now || !e.busy.CompareAndSwap(false, true) {
		return
	}
	e.value, e.trace = d, *trace
	e.ts.Store(now)
	e.busy.Store(false)
}

// histSnap is a histogram copied at one instant, for exposition.
type histSnap struct {
	bounds []int64
	counts []uint64 // per bucket, not cumulative
	native []uint64
	zero   uint64
	sumUS  uint64
	ex     []exemplarSnap
}

type exemplarSnap struct {
	ts, value int64
	trace     [16]byte
}

// snapshot copies h; the caller holds the accountant's write lock, so no observation is
// half done and the classic count, the native count and the sum agree.
func (h *histogram) snapshot() histSnap {
	s := histSnap{
		bounds: h.bounds,
		counts: make([]uint64, len(h.counts)),
		native: make([]uint64, len(h.native)),
		zero:   h.zero.Load(),
		sumUS:  h.sumUS.Load(),
	}
	for i := range h.counts {
		s.counts[i] = h.counts[i].Load()
		if e := &h.ex[i]; e.ts.Load() != 0 {
			s.ex = append(s.ex, exemplarSnap{ts: e.ts.Load(), value: e.value, trace: e.trace})
		}
	}
	for i := range h.native {
		s.native[i] = h.native[i].Load()
	}
	return s
}

// count is the number of observations.
func (s *histSnap) count() uint64 {
	var n uint64
	for _, c := range s.counts {
		n += c
	}
	return n
}

// cumulative returns the observations at or under bounds[le].
func (s *histSnap) cumulative(le int) uint64 {
	var n uint64
	for _, c := range s.counts[:le+1] {
		n += c
	}
	return n
}
