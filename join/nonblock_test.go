package join

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/tracing"
)

// TestAStuckConsumerAndAFullTableNeverBlockTheAccessLogPath is the promise that the SLI
// accounting, ahead of the join on the access-log receiver's goroutine, never waits for
// it: with the consumer stuck and the table full, every call returns at once, and what
// could not be delivered is counted.
func TestAStuckConsumerAndAFullTableNeverBlockTheAccessLogPath(t *testing.T) {
	h := newHarness(t, Config{MaxPending: 64, QueueItems: 64}, checkoutEdge())
	h.out.gate = make(chan struct{})
	batch := make([]als.Record, 32)
	start := time.Now()
	for i := range 2000 {
		for k := range batch {
			batch[k] = rec(fmt.Sprint(i, "/", k), 1) // sampled: each waits, or evicts
			if k%4 == 0 {
				batch[k] = unsampled(fmt.Sprint(i, "/", k)) // emitted at once
			}
		}
		h.j.ConsumeRecords(batch)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("64,000 records took %v with the consumer stuck", took)
	}
	s := h.j.Stats()
	if s.Dropped == 0 || s.Evicted[SideLog] == 0 {
		t.Errorf("dropped %d items and evicted %d records; want both above zero", s.Dropped, s.Evicted[SideLog])
	}
	close(h.out.gate)
}

// TestEveryInputIsAccountedForOnce drives the join with a random mix of records and
// spans, some matching, some duplicated, some without IDs, with time passing, then stops
// it: every input is in exactly one count, and every decided item reached the consumer.
func TestEveryInputIsAccountedForOnce(t *testing.T) {
	h := newHarness(t, Config{MaxPending: 100, Window: 5 * time.Second}, checkoutEdge())
	rng := rand.New(rand.NewPCG(3, 4))
	name := func() string { return fmt.Sprint(rng.IntN(300)) }
	for range 3000 {
		switch rng.IntN(6) {
		case 0, 1:
			h.j.ConsumeRecords([]als.Record{rec(name(), 1)})
		case 2:
			h.j.ConsumeRecords([]als.Record{unsampled(name()), withID(rec("x", 1), "")})
		case 3, 4:
			h.j.ConsumeSpans(&tracing.Batch{Spans: []tracing.Span{span(name())}})
		case 5:
			h.clock.Advance(time.Duration(rng.IntN(2000)) * time.Millisecond)
		}
	}
	if err := h.j.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := h.j.Stats()
	items := uint64(0)
	for side := range numSides {
		decided := s.Matched + s.Evicted[side] + uint64(s.Pending[side])
		for _, n := range s.Unmatched[side] {
			decided += n
		}
		if s.Received[side] != decided {
			t.Errorf("%s: received %d, but matched+unmatched+evicted+pending = %d", side, s.Received[side], decided)
		}
		items += s.Evicted[side]
		for _, n := range s.Unmatched[side] {
			items += n
		}
	}
	items += s.Matched
	if got := uint64(len(h.out.snapshot())); got != items || s.Dropped != 0 {
		t.Errorf("the consumer got %d items, the counts say %d (dropped %d)", got, items, s.Dropped)
	}
	if s.Matched == 0 || s.Unmatched[SideLog][ReasonExpired] == 0 || s.Unmatched[SideSpan][ReasonDuplicate] == 0 {
		t.Errorf("the mix did not exercise matches, expiries and duplicates: %+v", s)
	}
}
