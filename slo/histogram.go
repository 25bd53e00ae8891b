package slo

import (
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/edgetel/edgetel/als"
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
// zero bucket. It reads the bucket off the bits of d in seconds, the exponent and the top
// of the fraction, and places the fraction among nativeBounds with one comparison (see
// nativeCells): the same buckets as math.Frexp and a search of nativeBounds give, which
// client_golang does, at a fraction of the cost on the hottest line of the accounting.
func nativeIndex(d int64) (int, bool) {
	v := float64(d) / 1e9
	if v <= nativeZeroThreshold {
		return 0, false
	}
	// v is positive and normal: v = frac × 2^exp, frac in [0.5, 1) with fraction bits m.
	b := math.Float64bits(v)
	exp := int(b>>52) - 1022
	m := b & fracMask
	c := &nativeCells[m>>(52-cellBits)]
	i := int(c.below)
	if m > c.bound {
		i++
	}
	key := (exp-1)*len(nativeBounds) + i
	return min(key, nativeMaxKey) - nativeMinKey, true
}

const (
	fracMask = 1<<52 - 1
	// cellBits top bits of the fraction pick a cell; a cell (1/16 of [0.5, 1)) is narrower
	// than the gap between two of nativeBounds, so it holds one bound at most.
	cellBits = 4
)

// nativeCell is what nativeIndex needs of one cell: how many of nativeBounds lie below it,
// and the fraction bits of the one bound within it (all ones when none: no m exceeds it).
type nativeCell struct {
	below uint8
	bound uint64
}

var nativeCells = func() (cells [1 << cellBits]nativeCell) {
	for c := range cells {
		lo, hi := uint64(c)<<(52-cellBits), uint64(c+1)<<(52-cellBits)
		cells[c].bound = math.MaxUint64
		for _, f := range nativeBounds {
			switch m := math.Float64bits(f) & fracMask; {
			case m < lo:
				cells[c].below++
			case m < hi:
				cells[c].bound = m
			}
		}
	}
	return cells
}()

// histogram is a route's request durations, as classic buckets (the route's thresholds among
// their bounds, so that good latency events are exactly a cumulative bucket) and as native
// buckets, with the latest exemplar of each classic bucket. Every field is an atomic or is
// guarded by one: many streams observe into one route at once.
type histogram struct {
	bounds []int64 // classic upper bounds, ns, ascending
	// classic is, per native bucket (the zero bucket first), the classic bucket of every
	// duration in it, or straddles when a bound lies within it: found by search then.
	classic []uint8
	counts  []atomic.Uint64 // per classic bucket, not cumulative; the last is +Inf
	ex      []exemplarSlot  // latest exemplar per classic bucket
	native  []atomic.Uint64 // nativeBuckets
	zero    atomic.Uint64   // the native zero bucket
	sumUS   atomic.Uint64   // in µs: nanoseconds would wrap in two days at 1M req/s of 100ms
}

func newHistogram(bounds []int64) *histogram {
	return &histogram{
		bounds:  bounds,
		classic: classicOfNative(bounds),
		counts:  make([]atomic.Uint64, len(bounds)+1),
		ex:      make([]exemplarSlot, len(bounds)+1),
		native:  make([]atomic.Uint64, nativeBuckets),
	}
}

// observeNative counts a duration of d ns in the native buckets and returns its classic
// bucket, which the caller counts along with the sum (see tally).
func (h *histogram) observeNative(d int64) int {
	i, ok := nativeIndex(d)
	if ok {
		h.native[i].Add(1)
		i++
	} else {
		h.zero.Add(1)
	}
	if b := h.classic[i]; b != straddles {
		return int(b)
	}
	b, _ := slices.BinarySearch(h.bounds, d) // the first bound >= d: le is inclusive
	return b
}

// straddles marks a native bucket with a classic bound within it.
const straddles = math.MaxUint8

// classicOfNative returns histogram.classic for bounds, in one pass over both: a native
// bucket's classic bucket is that of both ends of its range (see nativeRanges) when they
// agree. With more bounds than uint8 can number, every bucket straddles.
func classicOfNative(bounds []int64) []uint8 {
	out := make([]uint8, len(nativeRanges))
	lo := 0 // the classic bucket of the range's low end: the bounds below it
	for i, rg := range nativeRanges {
		for lo < len(bounds) && bounds[lo] < rg[0] {
			lo++
		}
		hi := lo
		for hi < len(bounds) && bounds[hi] < rg[1] {
			hi++
		}
		out[i] = straddles
		if lo == hi && lo < straddles {
			out[i] = uint8(lo)
		}
	}
	return out
}

// nativeRanges are, per native bucket (the zero bucket first), nanoseconds that its
// durations lie between: a little wider than its bounds in seconds, since the bucket is
// decided in floating point. Bucket i covers (2^((k-1)/8), 2^(k/8)] s, k = i-1+nativeMinKey;
// the zero bucket, 0 to its threshold; the top one, everything above.
var nativeRanges = func() (ranges [1 + nativeBuckets][2]int64) {
	ranges[0] = [2]int64{0, int64(math.Ceil(nativeZeroThreshold*1e9)) + 2}
	for i := 1; i < len(ranges); i++ {
		k := i - 1 + nativeMinKey
		ranges[i][0] = int64(math.Exp2(float64(k-1)/(1<<nativeSchema))*1e9) - 2
		ranges[i][1] = int64(math.Exp2(float64(k)/(1<<nativeSchema))*1e9) + 2
	}
	ranges[len(ranges)-1][1] = math.MaxInt64
	return ranges
}()

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

// offer makes the exemplar of r (a record with a trace) the slot's unless the slot took
// one less than exemplarEvery before now: a bucket is written at most once a second, however
// many of its records have traces, and r's trace ID is decoded only when it is taken.
func (e *exemplarSlot) offer(r *als.Record, d, now int64) {
	if now-e.ts.Load() >= exemplarEvery && e.busy.CompareAndSwap(false, true) {
		trace, _ := r.Trace()
		e.fill(trace, d, now)
	}
}

// exemplarEvery is how often a slot takes a new exemplar at most. Prometheus reads them
// every scrape (15 s or so); a slot rewritten with every batch cost an atomic swap and the
// decoding of a trace ID for nearly every sampled record.
const exemplarEvery = int64(time.Second)

// keepNewer makes an exemplar of time ts the slot's if it is newer than the slot's: a model
// change carries exemplars over so, the latest of the old buckets a new one spans winning.
func (e *exemplarSlot) keepNewer(trace *[16]byte, d, ts int64) {
	if e.ts.Load() < ts && e.busy.CompareAndSwap(false, true) {
		e.fill(*trace, d, ts)
	}
}

// fill sets the exemplar and lets the slot go; the caller claimed it.
func (e *exemplarSlot) fill(trace [16]byte, d, now int64) {
	e.value, e.trace = d, trace
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
