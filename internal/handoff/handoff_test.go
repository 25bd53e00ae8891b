package handoff

import (
	"context"
	"sync"
	"testing"
)

func TestAQueueRefusesWhatDoesNotFitAndDeliversTheRestOnShutdown(t *testing.T) {
	var mu sync.Mutex
	var got []int
	block := make(chan struct{})
	q := &Queue[int]{Size: 2, MaxCost: 100, Workers: 1, Deliver: func(i int) {
		<-block
		mu.Lock()
		got = append(got, i)
		mu.Unlock()
	}}
	if r := q.Offer(0, 1); r != Stopped {
		t.Fatalf("an offer before Start: %v, want Stopped", r)
	}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err != ErrStarted {
		t.Errorf("a second Start: %v", err)
	}
	if r := q.Offer(1, 200); r != Full {
		t.Errorf("an item over the byte bound: %v, want Full", r)
	}
	results := []Result{q.Offer(1, 10), q.Offer(2, 10), q.Offer(3, 10), q.Offer(4, 10)}
	full := 0
	for _, r := range results {
		if r == Full {
			full++
		}
	}
	if full == 0 || full > 2 {
		t.Errorf("results %v: with two slots and a busy worker, one or two offers are refused", results)
	}
	close(block)
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4-full || q.Cost().Load() != 0 {
		t.Errorf("delivered %v with %d bytes left, want %d items and none", got, q.Cost().Load(), 4-full)
	}
	if err := q.Shutdown(context.Background()); err != nil || q.Running() {
		t.Errorf("a second Shutdown: %v, running %v", err, q.Running())
	}
}
