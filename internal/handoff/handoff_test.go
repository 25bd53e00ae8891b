package handoff

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
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

// On one CPU, an item offered to an idle worker is delivered before Offer returns: the
// handler yields to the worker it woke (see the package doc), so the consumer reads the
// item while it is still in the CPU's caches rather than after the handler's next messages.
func TestOnOneCPUTheWokenWorkerDeliversBeforeOfferReturns(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var delivered atomic.Int64
	q := &Queue[int]{Size: 16, MaxCost: 1 << 20, Workers: 1, Deliver: func(int) { delivered.Add(1) }}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	defer q.Shutdown(context.Background())
	const offers = 1000
	before := 0
	for i := range offers {
		if q.Offer(i, 1) != Queued {
			t.Fatalf("offer %d refused", i)
		}
		if delivered.Load() == int64(i+1) {
			before++
		}
	}
	// Not every time: a GC or a timer may take the CPU first. Without the yield, none.
	if before < offers/2 {
		t.Errorf("%d of %d items delivered before Offer returned, want most", before, offers)
	}
}
