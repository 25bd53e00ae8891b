package slo

import (
	"cmp"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

func TestBucketsIncludeEveryThreshold(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name  string
		route model.Route
		want  []time.Duration
	}{{
		name:  "a route without objectives has the default buckets",
		route: model.Route{Name: "a/b"},
		want:  defaultBounds,
	}, {
		name: "thresholds merge into the defaults, sorted and without duplicates",
		route: sloRoute("a/b", 0, availability999,
			model.Objective{Name: "fast", Indicator: model.Latency, Target: 0.9, Threshold: 150 * ms},
			model.Objective{Name: "slow", Indicator: model.Latency, Target: 0.99, Threshold: 300 * ms},
			model.Objective{Name: "slow-strict", Indicator: model.Latency, Target: 0.999, Threshold: 300 * ms},
			model.Objective{Name: "usual", Indicator: model.Latency, Target: 0.95, Threshold: 250 * ms}),
		want: []time.Duration{ms, 2500 * time.Microsecond, 5 * ms, 10 * ms, 25 * ms, 50 * ms, 100 * ms,
			150 * ms, 250 * ms, 300 * ms, 500 * ms, time.Second, 2500 * ms, 5 * time.Second, 10 * time.Second},
	}, {
		name: "a threshold above the defaults becomes the last bucket",
		route: sloRoute("a/b", 0, model.Objective{Name: "batch", Indicator: model.Latency,
			Target: 0.99, Threshold: 30 * time.Second}),
		want: append(slices.Clone(defaultBounds), 30*time.Second),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := specOf(&tt.route)
			var got []time.Duration
			for _, b := range spec.bounds {
				got = append(got, time.Duration(b))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("bounds = %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestHistogramMatchesClientGolang observes the same durations into this package's
// histogram and client_golang's own (classic buckets and native at factor 1.1) and
// compares the two whole.
func TestHistogramMatchesClientGolang(t *testing.T) {
	r := sloRoute("a/b", 0, latency99)
	bounds := specOf(&r).bounds
	ours := newHistogram(bounds)
	upper := make([]float64, len(bounds))
	for i, b := range bounds {
		upper[i] = float64(b) / 1e9
	}
	theirs := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "d", Help: "d", Buckets: upper,
		NativeHistogramBucketFactor: 1.1, NativeHistogramZeroThreshold: nativeZeroThreshold,
	})
	durations := []time.Duration{0, 500, time.Microsecond, time.Millisecond, 300 * time.Millisecond,
		300*time.Millisecond + 1, 500 * time.Millisecond, time.Second, 2 * time.Second,
		12345 * time.Microsecond, 10 * time.Second, time.Minute, time.Hour}
	for i := range 2000 { // a spread over six decades
		durations = append(durations, time.Duration(math.Pow(10, 3+6*float64(i)/2000)))
	}
	for _, d := range durations {
		observeDuration(ours, int64(d))
		theirs.Observe(float64(d) / 1e9)
	}
	snap := ours.snapshot()
	var got, want dto.Metric
	if err := snap.metric(durationDesc, t0, "a/b").Write(&got); err != nil {
		t.Fatal(err)
	}
	if err := theirs.Write(&want); err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Histogram.GetSampleSum()-want.Histogram.GetSampleSum()) > 1e-3 {
		t.Errorf("sum = %v, want %v", got.Histogram.GetSampleSum(), want.Histogram.GetSampleSum())
	}
	if want.Histogram.GetSchema() != nativeSchema || len(want.Histogram.PositiveSpan) == 0 ||
		len(want.Histogram.Bucket) != len(bounds) {
		t.Fatalf("client_golang's histogram is not both classic and native: %v", want.Histogram)
	}
	for _, h := range []*dto.Histogram{got.Histogram, want.Histogram} {
		h.SampleSum, h.CreatedTimestamp = nil, nil
	}
	if !proto.Equal(got.Histogram, want.Histogram) {
		t.Errorf("histogram differs from client_golang's\n got: %v\nwant: %v", got.Histogram, want.Histogram)
	}
}

func gatherHistogram(t *testing.T, a *Accountant, route string) *dto.Histogram {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(a)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "edgetel_request_duration_seconds" {
			continue
		}
		for _, m := range mf.Metric {
			if m.Label[0].GetValue() == route {
				return m.Histogram
			}
		}
	}
	t.Fatalf("no histogram for route %q", route)
	return nil
}

// exemplarTraces returns the trace_id of every classic bucket's exemplar, by upper bound.
func exemplarTraces(h *dto.Histogram) map[float64]string {
	out := map[float64]string{}
	for _, b := range h.Bucket {
		if e := b.Exemplar; e != nil {
			for _, l := range e.Label {
				if l.GetName() == "trace_id" {
					out[b.GetUpperBound()] = l.GetValue()
				}
			}
		}
	}
	return out
}

func TestExemplars(t *testing.T) {
	id := func(b byte) string {
		r := traced(als.Record{}, b, true)
		trace, _ := r.Trace()
		return hex.EncodeToString(trace[:])
	}
	ok := 100 * time.Millisecond // in the bucket le=0.1
	tests := []struct {
		name    string
		batches [][]als.Record
		step    time.Duration // between batches; a second when zero
		want    map[float64]string
	}{{
		name:    "an exemplar carries the trace ID in hex under trace_id",
		batches: [][]als.Record{{traced(rec("a/b", 200, 0, ok), 0x10, true)}},
		want:    map[float64]string{0.1: id(0x10)},
	}, {
		name:    "a record without a trace gives no exemplar",
		batches: [][]als.Record{{rec("a/b", 503, 0, ok)}},
		want:    map[float64]string{},
	}, {
		name:    "an unsampled good request gives no exemplar: its trace is not in the backend",
		batches: [][]als.Record{{traced(rec("a/b", 200, 0, ok), 0x10, false)}},
		want:    map[float64]string{},
	}, {
		name: "an unsampled request that broke an objective gives one",
		batches: [][]als.Record{{
			traced(rec("a/b", 503, 0, ok), 0x20, false),
			traced(rec("a/b", 200, 0, time.Second), 0x30, false),
		}},
		want: map[float64]string{0.1: id(0x20), 1: id(0x30)},
	}, {
		name: "a later batch's exemplar replaces an earlier one in the same bucket",
		batches: [][]als.Record{
			{traced(rec("a/b", 200, 0, ok), 0x10, true)},
			{traced(rec("a/b", 200, 0, ok-time.Millisecond), 0x40, true)},
		},
		want: map[float64]string{0.1: id(0x40)},
	}, {
		name: "a batch within a second of the bucket's exemplar leaves it: a slot is written once a second at most",
		batches: [][]als.Record{
			{traced(rec("a/b", 200, 0, ok), 0x10, true)},
			{traced(rec("a/b", 200, 0, ok-time.Millisecond), 0x40, true)},
		},
		step: time.Second - time.Nanosecond,
		want: map[float64]string{0.1: id(0x10)},
	}, {
		name:    "a request slower than every bucket has its exemplar in +Inf",
		batches: [][]als.Record{{traced(rec("a/b", 200, 0, time.Minute), 0x50, true)}},
		want:    map[float64]string{math.Inf(1): id(0x50)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock(t0)
			a := NewAccountant(edge(sloRoute("a/b", 0, availability999, latency99)), c.now)
			step := cmp.Or(tt.step, time.Second)
			for _, b := range tt.batches {
				c.advance(step)
				a.ConsumeRecords(b)
			}
			h := gatherHistogram(t, a, "a/b")
			got := exemplarTraces(h)
			if len(got) != len(tt.want) {
				t.Errorf("exemplars = %v, want %v", got, tt.want)
			}
			for le, want := range tt.want {
				if got[le] != want {
					t.Errorf("bucket le=%v: trace_id %q, want %q", le, got[le], want)
				}
			}
			if len(h.Exemplars) != len(tt.want) {
				t.Errorf("native histogram has %d exemplars, want %d", len(h.Exemplars), len(tt.want))
			}
			for _, e := range h.Exemplars {
				if e.Timestamp == nil || len(e.Label) != 1 || len(e.Label[0].GetValue()) != 32 {
					t.Errorf("native exemplar %v: want a timestamp and a 32-digit trace_id", e)
				}
			}
		})
	}
}

// nativeIndexFrexp is nativeIndex as client_golang computes it: math.Frexp and a search
// of the bounds within one power of two.
func nativeIndexFrexp(d int64) (int, bool) {
	v := float64(d) / 1e9
	if v <= nativeZeroThreshold {
		return 0, false
	}
	frac, exp := math.Frexp(v)
	i := 0
	for i < len(nativeBounds) && frac > nativeBounds[i] {
		i++
	}
	return min((exp-1)*len(nativeBounds)+i, nativeMaxKey) - nativeMinKey, true
}

func TestNativeIndexPlacesEveryDurationAsFrexpDoes(t *testing.T) {
	check := func(d int64) {
		t.Helper()
		gi, gok := nativeIndex(d)
		wi, wok := nativeIndexFrexp(d)
		if gi != wi || gok != wok {
			t.Fatalf("nativeIndex(%d) = %d, %v; want %d, %v", d, gi, gok, wi, wok)
		}
	}
	for _, d := range []int64{0, 1, 953, 954, 955, 1e3, 1e6, 1e9, 2e9, 4e9, 1 << 40, 1 << 62, math.MaxInt64} {
		check(d)
	}
	// Every boundary, in every power of two from the zero threshold to the top, and the
	// nanoseconds either side of it.
	for k := nativeMinKey - 1; k <= nativeMaxKey+8; k++ {
		edge := int64(math.Exp2(float64(k)/(1<<nativeSchema)) * 1e9)
		for d := edge - 3; d <= edge+3; d++ {
			check(max(d, 0))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		check(int64(math.Pow(10, 3+10*r.Float64())))
	}
}

func TestObserveFindsTheClassicBucketAsASearchDoes(t *testing.T) {
	r := sloRoute("a/b", 0, latency99)
	sets := map[string][]int64{
		"a route's bounds":                   specOf(&r).bounds,
		"bounds on native bucket boundaries": {954, 1e9, 1 << 30, int64(math.Exp2(3.0/8) * 1e9), 1 << 50},
		"bounds a nanosecond apart":          {1, 2, 3, 999, 1000, 1001, 300_000_000, 300_000_001},
		"no bounds":                          {},
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for name, bounds := range sets {
		t.Run(name, func(t *testing.T) {
			h := newHistogram(bounds)
			var ds []int64
			for _, b := range bounds {
				for d := b - 2; d <= b+2; d++ {
					ds = append(ds, d)
				}
			}
			for k := nativeMinKey - 1; k <= nativeMaxKey+1; k++ {
				edge := int64(math.Exp2(float64(k)/(1<<nativeSchema)) * 1e9)
				ds = append(ds, edge-1, edge, edge+1)
			}
			for range 200_000 {
				ds = append(ds, int64(math.Pow(10, 12*rnd.Float64())))
			}
			for _, d := range append(ds, 0, math.MaxInt64) {
				d = max(d, 0)
				want, _ := slices.BinarySearch(bounds, d)
				if got := h.observeNative(d); got != want {
					t.Fatalf("observeNative(%d) = bucket %d, want %d (bounds %v)", d, got, want, bounds)
				}
			}
		})
	}
}

// BenchmarkNewHistogram is a route's histogram as a model change makes it: its classic
// bucket per native bucket is computed then.
func BenchmarkNewHistogram(b *testing.B) {
	r := sloRoute("a/b", 0, latency99)
	bounds := specOf(&r).bounds
	for b.Loop() {
		newHistogram(bounds)
	}
}
