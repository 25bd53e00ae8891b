package slo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// tallyModel has routes of every accounting shape: no objectives, availability alone, one
// latency threshold, several thresholds (one between default bounds, one on a bound), and
// both kinds, with windows on different tiers.
func tallyModel() *model.Edge {
	lat := func(name string, d time.Duration) model.Objective {
		return model.Objective{Name: name, Indicator: model.Latency, Target: 0.99, Threshold: d}
	}
	routes := []model.Route{
		{Name: "shop/plain", Namespace: "shop"},
		sloRoute("shop/avail", time.Hour, availability999),
		sloRoute("shop/latency", 7*24*time.Hour, latency99),
		sloRoute("shop/many", 28*24*time.Hour, availability999, lat("fast", 40*time.Millisecond),
			lat("ok", 100*time.Millisecond), lat("slow", 700*time.Millisecond), lat("tail", 3*time.Second)),
	}
	for i := range 12 { // more routes than a batch usually touches
		routes = append(routes, sloRoute(fmt.Sprintf("ns%d/r%d", i%3, i), 28*24*time.Hour,
			availability999, latency99))
	}
	return edge(routes...)
}

// tallyRecords is n records over the model's routes, unmatched and unknown names, every
// status class, local failures, durations from 0 to minutes, with and without traces, most
// resolved in m (als.Record.RouteIn), some of each route by name only.
func tallyRecords(m *model.Edge, n int, rng *rand.Rand) []als.Record {
	out := make([]als.Record, n)
	for i := range out {
		name := ""
		switch k := rng.IntN(len(m.Routes) + 2); {
		case k < len(m.Routes):
			name = m.Routes[k].Name
		case k == len(m.Routes):
			name = "shop/unknown"
		}
		status := []uint32{0, 101, 200, 200, 200, 204, 302, 404, 429, 500, 503, 999}[rng.IntN(12)]
		var flags als.ResponseFlags
		if rng.IntN(20) == 0 {
			flags = als.FlagUpstreamConnectionFailure
		}
		d := time.Duration(rng.ExpFloat64() * float64(200*time.Millisecond))
		if rng.IntN(50) == 0 {
			d = time.Duration(rng.IntN(600)) * time.Second
		}
		r := rec(name, status, flags, d)
		if k := slices.IndexFunc(m.Routes, func(mr model.Route) bool { return mr.Name == name }); k >= 0 && rng.IntN(3) != 0 {
			r.Model, r.Route = m, int32(k+1) // resolved by the decoder; the rest by name
		}
		if rng.IntN(3) != 0 {
			r = traced(r, byte(i), rng.IntN(4) == 0)
		}
		out[i] = r
	}
	return out
}

// TestABatchCountsExactlyWhatItsRecordsCountOneAtATime holds the tallies to counting each
// record on its own: the same exposition (counters, classic and native buckets, sums,
// exemplars, burn rates) and the same status, across time slots and a model change.
func TestABatchCountsExactlyWhatItsRecordsCountOneAtATime(t *testing.T) {
	m := tallyModel()
	clock := newFakeClock(t0)
	batched, single := NewAccountant(m, clock.now), NewAccountant(m, clock.now)
	rng := rand.New(rand.NewPCG(3, 4))
	for step := range 40 {
		clock.advance(7 * time.Second) // across 10s slots, every other step
		if step == 20 {
			next := tallyModel()
			next.Routes[0].SLO = &model.SLO{Objectives: []model.Objective{availability999}}
			batched.SetModel(next)
			single.SetModel(next)
		}
		batch := tallyRecords(m, 1+rng.IntN(300), rng)
		batched.ConsumeRecords(batch)
		for i := range batch {
			single.ConsumeRecords(batch[i : i+1])
		}
	}
	clock.advance(time.Minute)
	for _, f := range []expfmt.FormatType{expfmt.TypeProtoText, expfmt.TypeOpenMetrics} {
		if got, want := format(t, batched, f), format(t, single, f); !bytes.Equal(got, want) {
			t.Errorf("%v exposition differs, batched (-) and one at a time (+):\n%s", f,
				cmp.Diff(string(got), string(want)))
		}
	}
	if diff := cmp.Diff(batched.Status(), single.Status()); diff != "" {
		t.Errorf("status differs, batched (-) and one at a time (+):\n%s", diff)
	}
}

// TestCountingABatchDoesNotAllocate: the tallies come from a pool and keep their memory.
func TestCountingABatchDoesNotAllocate(t *testing.T) {
	m := tallyModel()
	a := NewAccountant(m, nil)
	batch := tallyRecords(m, 200, rand.New(rand.NewPCG(5, 6)))
	a.ConsumeRecords(batch)
	if n := testing.AllocsPerRun(100, func() { a.ConsumeRecords(batch) }); n > 0 {
		t.Errorf("ConsumeRecords allocates %v times a batch; want 0", n)
	}
}
