package slo

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

func routeNames(a *Accountant) []string {
	var out []string
	for _, s := range a.Status() {
		out = append(out, s.Route)
	}
	return out
}

func TestModelSwapKeepsAndClearsRoutes(t *testing.T) {
	c := newFakeClock(t0)
	a := NewAccountant(edge(
		sloRoute("shop/a", 0, availability999),
		sloRoute("shop/b", 0, availability999),
	), c.now)
	a.ConsumeRecords([]als.Record{rec("shop/a", 200, 0, 0), rec("shop/b", 503, 0, 0), rec("", 404, 0, 0)})

	changed := availability999
	changed.Target = 0.99
	a.SetModel(edge(sloRoute("shop/a", 0, changed), sloRoute("shop/c", 0, availability999)))

	if got, want := routeNames(a), []string{"shop/a", "shop/c", "unmatched"}; !slices.Equal(got, want) {
		t.Errorf("routes after swap = %v, want %v", got, want)
	}
	if o := objectiveStatus(t, routeStatus(t, a, "shop/a"), "availability"); o.Events != 1 || o.Target != 0.99 {
		t.Errorf("a route still in the model: %d events, target %v; want 1, 0.99", o.Events, o.Target)
	}
	if o := objectiveStatus(t, routeStatus(t, a, "shop/c"), "availability"); o.Events != 0 {
		t.Errorf("a new route starts with %d events, want 0", o.Events)
	}
	if got := routeStatus(t, a, "unmatched").Requests[4]; got != 1 {
		t.Errorf("unmatched 4xx = %d after swap, want 1", got)
	}
	if n := testutil.CollectAndCount(a, "edgetel_slo_events_total"); n != 2 {
		t.Errorf("%d events series after swap, want 2 (shop/b's gone)", n)
	}
}

// TestNewThresholdCarriesCounts swaps a 300ms latency objective for a 200ms one.
func TestNewThresholdCarriesCounts(t *testing.T) {
	c := newFakeClock(t0)
	a := NewAccountant(edge(sloRoute("shop/a", 0, availability999, latency99)), c.now)
	ms := time.Millisecond
	c.advance(time.Minute)
	a.ConsumeRecords([]als.Record{rec("shop/a", 200, 0, 100*ms), rec("shop/a", 200, 0, 280*ms),
		rec("shop/a", 503, 0, 400*ms)})
	c.advance(time.Minute)
	swapAt := c.now()
	faster := latency99
	faster.Threshold = 200 * ms
	a.SetModel(edge(sloRoute("shop/a", 0, availability999, faster)))
	c.advance(time.Minute)
	a.ConsumeRecords([]als.Record{rec("shop/a", 200, 0, 210*ms), rec("shop/a", 200, 0, 10*ms)})
	c.advance(time.Minute)

	rs := routeStatus(t, a, "shop/a")
	avail, lat := objectiveStatus(t, rs, "availability"), objectiveStatus(t, rs, "latency")
	if avail.Events != 5 || avail.Good != 4 {
		t.Errorf("availability: %d good of %d, want 4 of 5", avail.Good, avail.Events)
	}
	// Good at 200ms: the 100ms request from before (the old bound below 200ms is 100ms)
	// and the 10ms one after.
	if lat.Events != 5 || lat.Good != 2 {
		t.Errorf("latency: %d good of %d, want 2 of 5", lat.Good, lat.Events)
	}
	if !avail.Since.Equal(t0) || !lat.Since.Equal(swapAt) {
		t.Errorf("windows since %v (availability) and %v (latency); want %v and %v",
			avail.Since, lat.Since, t0, swapAt)
	}
	// The latency windows hold what came after the swap: one of two requests over 200ms.
	if w := lat.BurnRates[0]; w.Events != 2 || w.Bad != 1 || w.Filled {
		t.Errorf("latency 5m window: %v events, %v bad, filled %v; want 2, 1, false", w.Events, w.Bad, w.Filled)
	}
	if w := avail.BurnRates[0]; w.Events != 5 || w.Bad != 1 {
		t.Errorf("availability 5m window: %v events, %v bad; want 5, 1", w.Events, w.Bad)
	}
	h := gatherHistogram(t, a, "shop/a")
	cum := map[float64]uint64{}
	for _, b := range h.Bucket {
		cum[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	if cum[0.1] != 2 || cum[0.2] != 2 || cum[0.25] != 3 || cum[0.5] != 5 || h.GetSampleCount() != 5 {
		t.Errorf("buckets after swap = %v (count %d)", cum, h.GetSampleCount())
	}
	if _, ok := cum[0.3]; ok {
		t.Errorf("the 300ms bucket outlived its threshold")
	}
}

// TestCarryCatchesUp builds the new state of a route, then counts into the old one in a later
// slot, as a stream can between SetModel building the table and taking the lock.
func TestCarryCatchesUp(t *testing.T) {
	r := sloRoute("shop/a", 0, availability999, latency99)
	old := newRouteAcct(specOf(&r), t0)
	r.SLO.Objectives[1].Threshold = 200 * time.Millisecond
	next := newRouteAcct(specOf(&r), t0)
	now := t0.Add(25 * time.Second).UnixNano()
	record := rec("shop/a", 503, 0, time.Millisecond)
	observe(old, &record, now)
	next.carryFrom(old)
	var o ObjectiveStatus
	next.windows(&objective{Objective: availability999, col: 1}, DefaultSLOWindow, now, &o)
	if w := o.BurnRates[0]; w.Events != 1 || w.Bad != 1 {
		t.Errorf("5m window after the carry: %v events, %v bad; want 1, 1", w.Events, w.Bad)
	}
	if w := o.SLOWindow; w.Events != 1 || w.Bad != 1 {
		t.Errorf("SLO window after the carry: %v events, %v bad; want 1, 1", w.Events, w.Bad)
	}
}

func TestNewWindowCarriesTheBudget(t *testing.T) {
	c := newFakeClock(t0)
	a := NewAccountant(edge(sloRoute("shop/a", 28*24*time.Hour, availability999)), c.now)
	feed(a, c, "shop/a", 0, 10*time.Hour, time.Minute, 1000, constant(1), nil)
	c.set(t0.Add(10 * time.Hour))
	before := objectiveStatus(t, routeStatus(t, a, "shop/a"), "availability")
	a.SetModel(edge(sloRoute("shop/a", 90*24*time.Hour, availability999)))
	after := objectiveStatus(t, routeStatus(t, a, "shop/a"), "availability")
	if before.SLOWindow.Events != 600000 || after.SLOWindow.Events != before.SLOWindow.Events ||
		after.SLOWindow.Bad != before.SLOWindow.Bad || !approx(after.BudgetRemaining, 0) {
		t.Errorf("SLO window before %+v, after %+v (budget %v)", before.SLOWindow, after.SLOWindow, after.BudgetRemaining)
	}
	if after.SLOWindow.Window != 90*24*time.Hour {
		t.Errorf("SLO window is %v after the swap", after.SLOWindow.Window)
	}
}

// TestConcurrentUse runs batches on four streams while the model swaps back and forth
// between two thresholds (moving the counts each time) and scrapes run: no record is lost.
func TestConcurrentUse(t *testing.T) {
	models := []*model.Edge{
		edge(sloRoute("shop/a", 0, availability999, latency99)),
		edge(sloRoute("shop/a", 0, availability999, model.Objective{Name: "latency",
			Indicator: model.Latency, Target: 0.99, Threshold: 200 * time.Millisecond})),
	}
	c := newFakeClock(t0)
	a := NewAccountant(models[0], c.now)
	const streams, batches, size = 4, 200, 48
	var wg sync.WaitGroup
	for s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]als.Record, size)
			for i := range batch {
				batch[i] = traced(rec("shop/a", uint32(200+i%4*100), 0, time.Duration(i)*10*time.Millisecond), byte(s), true)
			}
			for range batches {
				c.advance(time.Second)
				a.ConsumeRecords(batch)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(a)
		for i := 0; i < 50; i++ {
			a.SetModel(models[i%2])
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	<-done
	o := objectiveStatus(t, routeStatus(t, a, "shop/a"), "availability")
	if want := uint64(streams * batches * size); o.Events != want || o.Good != want*3/4 {
		t.Errorf("%d good of %d events, want %d of %d", o.Good, o.Events, want*3/4, want)
	}
}
