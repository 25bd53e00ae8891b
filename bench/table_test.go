package bench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/sim"
)

func TestRSSSlope(t *testing.T) {
	const mib = 1 << 20
	line := func(start, perMin float64, n int) []Sample {
		var s []Sample
		for i := range n {
			el := time.Duration(i) * 10 * time.Second
			s = append(s, Sample{Elapsed: el, RSS: int64((start + perMin*el.Minutes()) * mib)})
		}
		return s
	}
	warmup := append([]Sample{{0, 10 * mib}, {10 * time.Second, 500 * mib}}, line(100, 0, 60)[7:]...)
	for _, tc := range []struct {
		name    string
		samples []Sample
		want    float64 // MiB/min
	}{
		{"a flat RSS has no slope", line(100, 0, 60), 0},
		{"an RSS growing 2 MiB a minute has a slope of 2", line(100, 2, 60), 2},
		{"the first minute's growth is left out", warmup, 0},
		{"one sample has no slope", line(100, 5, 1), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RSSSlope(tc.samples) / mib; math.Abs(got-tc.want) > 1e-6 {
				t.Errorf("slope = %v MiB/min, want %v", got, tc.want)
			}
		})
	}
}

func TestWriteBenchTable(t *testing.T) {
	out := `goos: linux
BenchmarkPublishEdgeFull-2   	      20	 102345678 ns/op	        97.50 cpu-ms/op	        79.00 fastest-ms	 123 B/op	 4 allocs/op
PASS
`
	var b strings.Builder
	if err := WriteBenchTable(&b, strings.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PublishEdgeFull-2", "102.3 ms/op", "97.50 cpu-ms/op", "79.00 fastest-ms"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "allocs/op") {
		t.Errorf("table keeps allocs/op:\n%s", b.String())
	}
	if err := WriteBenchTable(&b, strings.NewReader("FAIL\n")); err == nil {
		t.Error("output without benchmarks: no error")
	}
}

func TestCheck(t *testing.T) {
	truth := sim.Truth{Routes: map[string]sim.RouteTruth{
		"shop/cart": {Requests: 10, Status5xx: 1, Bad: 2, Latency: map[string]sim.LatencyTruth{
			"latency": {Threshold: 300 * time.Millisecond, Good: 9}}},
	}}
	exact := RouteCounts{Requests: 10, Status5xx: 1, Count: 10, Buckets: map[float64]uint64{0.3: 9},
		Good: map[string]uint64{"availability": 8}}
	short := exact
	short.Requests = 9
	noBucket := exact
	noBucket.Buckets = map[float64]uint64{0.25: 9}
	for _, tc := range []struct {
		name   string
		counts Counts
		schema Schema
		diffs  int
	}{
		{"counts equal to the truth have no differences", Counts{Routes: map[string]RouteCounts{"shop/cart": exact}}, EdgetelSchema, 0},
		{"a request short is a difference", Counts{Routes: map[string]RouteCounts{"shop/cart": short}}, EdgetelSchema, 1},
		{"a histogram without the threshold's bucket is a difference", Counts{Routes: map[string]RouteCounts{"shop/cart": noBucket}}, PeerSchema, 1},
		{"a route the generator never sent is a difference", Counts{Routes: map[string]RouteCounts{
			"shop/cart": exact, "shop/other": {Requests: 1}}}, EdgetelSchema, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.schema.Check(tc.counts, truth); len(got) != tc.diffs {
				t.Errorf("got %d differences, want %d: %v", len(got), tc.diffs, got)
			}
		})
	}
}

func TestRatiosAreTakenWithinARoundAndTheirMedianReported(t *testing.T) {
	// side, round, entries counted over 10 s, CPU seconds, peak RSS MiB
	result := func(side string, round int, counted uint64, cpu float64, rss int64) Result {
		return Result{Side: side, Round: round, Counted: counted, Elapsed: 10 * time.Second,
			CPU: time.Duration(cpu * float64(time.Second)), PeakRSS: rss << 20}
	}
	const als = "edgetel (ALS)"
	results := []Result{
		// Round 2 ran on a slow machine: both sides at half speed, the same ratio.
		result(als, 1, 15_000_000, 10, 100), result(PeerName, 1, 1_000_000, 10, 40),
		result(als, 2, 7_500_000, 10, 100), result(PeerName, 2, 500_000, 10, 40),
		result(als, 3, 12_000_000, 10, 120), result(PeerName, 3, 1_000_000, 10, 40),
	}
	got := Ratios(results)
	want := []float64{15, 15, 12}
	if len(got) != len(want) {
		t.Fatalf("%d ratios, want %d: %+v", len(got), len(want), got)
	}
	for i, q := range got {
		if math.Abs(q.Throughput-want[i]) > 1e-9 || math.Abs(q.PeerCPU-want[i]) > 1e-9 || q.Round != i+1 {
			t.Errorf("round %d: throughput %v×, peer CPU %v×; want %v× both", i+1, q.Throughput, q.PeerCPU, want[i])
		}
	}
	med := MedianRatios(got)
	if len(med) != 1 || med[0].Throughput != 15 || med[0].RSS != 2.5 {
		t.Errorf("medians = %+v; want one, throughput 15×, RSS 2.5×", med)
	}
	var b strings.Builder
	WriteTable(&b, results)
	for _, line := range []string{"edgetel (ALS), round 2", "**edgetel (ALS), max, median of 3 rounds** | 15.0×"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("table lacks %q:\n%s", line, b.String())
		}
	}
}
