// Package handoff is the bounded queue between a receiver's gRPC handlers and the
// goroutines that feed its consumer. A handler never waits: an item that does not fit, in
// count or in bytes, is refused at once and the receiver counts the drop.
//
// A handler that has queued an item yields its CPU (runtime.Gosched), so that a worker
// woken by the item delivers it at once, while its bytes, just decoded, are still in the
// CPU's caches. Without that, on a busy core the handlers read and decode message after
// message before the worker runs, and it delivers from a queue of tens of megabytes, each
// batch long gone from the caches (a fifth of the sink's CPU at its maximum rate). Yielding
// is not waiting: a stalled consumer holds up no handler, its items queue and then drop.
package handoff

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// ErrStarted is returned by Start on a queue that is running.
var ErrStarted = errors.New("handoff: already started")

// Result is what Offer did with an item.
type Result int

// Results of Offer.
const (
	// Queued: a worker will deliver the item.
	Queued Result = iota
	// Full: the queue had no room, in items or in bytes; the item was not taken.
	Full
	// Stopped: the queue is not running; the item was not taken.
	Stopped
)

// Queue holds at most Size items and MaxCost bytes on their way to Workers goroutines that
// call Deliver. The zero value is not usable; build one with a literal and call Start.
type Queue[T any] struct {
	Size    int
	MaxCost int64
	Workers int
	// Deliver hands an item to the consumer; it runs on the workers.
	Deliver func(T)

	cost atomic.Int64
	mu   sync.RWMutex // held for writing to start and stop, for reading to offer
	ch   chan queued[T]
	done chan struct{} // closed when the last run's workers have returned
}

type queued[T any] struct {
	item T
	cost int64
}

// Cost is the bytes queued now, for a gauge.
func (q *Queue[T]) Cost() *atomic.Int64 { return &q.cost }

// Start starts the workers. It returns at once; they run until Shutdown. A queue may be
// started again after Shutdown.
func (q *Queue[T]) Start() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ch != nil {
		return ErrStarted
	}
	ch, done := make(chan queued[T], q.Size), make(chan struct{})
	var workers sync.WaitGroup
	for range q.Workers {
		workers.Go(func() {
			for it := range ch {
				q.Deliver(it.item)
				q.cost.Add(-it.cost)
			}
		})
	}
	go func() { workers.Wait(); close(done) }()
	q.ch, q.done = ch, done
	return nil
}

// Offer queues item, which holds cost bytes, without waiting.
func (q *Queue[T]) Offer(item T, cost int64) Result {
	r := q.offer(item, cost)
	if r == Queued {
		runtime.Gosched() // see the package doc; after the lock, so Shutdown is not held up
	}
	return r
}

func (q *Queue[T]) offer(item T, cost int64) Result {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.ch == nil {
		return Stopped
	}
	if q.cost.Add(cost) <= q.MaxCost {
		select {
		case q.ch <- queued[T]{item, cost}:
			return Queued
		default:
		}
	}
	q.cost.Add(-cost)
	return Full
}

// Running reports whether the queue takes items.
func (q *Queue[T]) Running() bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.ch != nil
}

// Shutdown stops taking items, then waits until every queued item has been delivered, or
// until ctx ends. It is safe to call twice, and without Start.
func (q *Queue[T]) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	if q.ch != nil {
		// No offer can hold the channel now: each checks it under the read lock.
		close(q.ch)
		q.ch = nil
	}
	done := q.done
	q.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
