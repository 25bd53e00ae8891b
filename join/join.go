package join

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/tracing"
)

// ErrAlreadyStarted is returned by Start on a join that is running.
var ErrAlreadyStarted = errors.New("join: already started")

// errStillStopping refuses a Start while the last run's delivery goes on: a Shutdown
// whose context ended before the consumer was given everything.
var errStillStopping = errors.New("join: the last run is still delivering; Shutdown it again first")

// maxDeliver bounds one ConsumeJoined call, so that the ring frees up in steps.
const maxDeliver = 1024

// Join correlates access-log records and spans by request ID. It is an als.Consumer and a
// tracing.Consumer: give it the receivers' batches, in any order, from any goroutine.
//
// Each input is handled at once, in O(1) and without allocating: an item with nothing to
// wait for (no request ID, or a record of a request Envoy did not trace) is emitted alone;
// one whose partner is pending is emitted with it; any other waits in the table until its
// partner comes, its window ends, or the table is full and it is the oldest. Emitted items
// are written into a ring that a goroutine of the join's own hands to the Consumer, so that
// neither a receiver nor the SLI accounting ahead of the join in the access-log chain ever
// waits for what comes after it: when the ring is full, items are dropped and counted.
// Every input is counted once (see Stats).
//
// ConsumeRecords, ConsumeSpans, SetModel, Stats and Collect are safe for concurrent use.
type Join struct {
	cfg  Config
	next Consumer
	// countOnly is set when next is Discard: the join counts and makes no items.
	countOnly bool
	now       func() time.Time
	epoch     time.Time
	keys      keyer
	window    int64 // ns

	mu     sync.Mutex
	tbl    *table
	routes *routes
	stats  Stats
	// ring holds the items emitted and not yet delivered: n of them from head, wrapping.
	// Emitters write past them; the delivery goroutine reads them without mu, and frees
	// them only once the consumer has returned.
	ring    []Joined
	head, n int
	running bool          // inputs are taken
	quit    bool          // the delivery goroutine returns once the ring is empty
	wake    chan struct{} // items were written, or quit was set
	space   chan struct{} // the delivery goroutine freed room in the ring
	stop    chan struct{} // closed to stop the ticker
	done    chan struct{} // closed when the last run's goroutines have returned
}

var (
	_ als.Consumer     = (*Join)(nil)
	_ tracing.Consumer = (*Join)(nil)
)

// New returns a join that emits to next and judges records against m's objectives (nil:
// no model yet). now is its clock, time.Now if nil; tests give a fake one.
func New(cfg Config, m *model.Edge, next Consumer, now func() time.Time) (*Join, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if next == nil {
		return nil, fmt.Errorf("%w: no consumer", ErrInvalidConfig)
	}
	if now == nil {
		now = time.Now
	}
	cfg = cfg.withDefaults()
	j := &Join{
		cfg: cfg, next: next, now: now, epoch: now(), keys: newKeyer(),
		window: int64(cfg.Window), tbl: newTable(cfg.MaxPending), routes: newRoutes(m),
		wake: make(chan struct{}, 1), space: make(chan struct{}, 1),
		// Emitting to Discard, the join makes no items: nobody would read them (a ring
		// of them and a copy of every record into one cost ~5% of the sink's CPU).
		countOnly: next == Discard,
	}
	if !j.countOnly {
		j.ring = make([]Joined, cfg.QueueItems)
	}
	return j, nil
}

// SetModel makes m the model whose routes name records and judge them.
func (j *Join) SetModel(m *model.Edge) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.routes.set(m)
}

// Start starts the goroutines that deliver emitted items and expire pending ones. It
// returns at once; they run until Shutdown. A join may be started again after Shutdown.
func (j *Join) Start(context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.running {
		return ErrAlreadyStarted
	}
	if j.done != nil {
		select {
		case <-j.done:
		default:
			return errStillStopping
		}
	}
	j.running, j.quit = true, false
	j.stop, j.done = make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(j.deliver)
	wg.Go(func() { j.tick(j.stop) })
	go func(done chan struct{}) { wg.Wait(); close(done) }(j.done)
	return nil
}

// Shutdown stops taking input, emits every pending entry alone (ReasonShutdown), and
// waits until the consumer has been given everything emitted, or until ctx ends; what
// ctx leaves no time for is counted as dropped. A clean stop loses nothing: stop the
// receivers first, so that what they hold reaches the join. Safe to call twice, and
// without Start.
func (j *Join) Shutdown(ctx context.Context) error {
	j.mu.Lock()
	wasRunning, done := j.running, j.done
	if wasRunning {
		j.running = false
		close(j.stop)
	}
	j.mu.Unlock()
	if done == nil {
		return nil
	}
	var err error
	if wasRunning {
		err = j.flush(ctx)
		j.mu.Lock()
		j.quit = true
		j.mu.Unlock()
		j.notify(j.wake)
	}
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("join: shutdown: %w", ctx.Err())
	}
}

// flush emits every pending entry alone, oldest first, as the ring makes room for them.
// If ctx ends first, the rest are counted as emitted and dropped.
func (j *Join) flush(ctx context.Context) error {
	for {
		j.mu.Lock()
		for j.countOnly || j.n < len(j.ring) {
			idx, ok := j.tbl.oldest()
			if !ok {
				j.mu.Unlock()
				j.notify(j.wake)
				return nil
			}
			j.emitAlone(&j.tbl.entries[idx], ReasonShutdown)
			j.tbl.remove(idx)
		}
		j.mu.Unlock()
		j.notify(j.wake)
		select {
		case <-j.space:
		case <-ctx.Done():
			j.mu.Lock()
			for idx, ok := j.tbl.oldest(); ok; idx, ok = j.tbl.oldest() {
				j.stats.Unmatched[j.tbl.entries[idx].meta.side()][ReasonShutdown]++
				j.stats.Dropped++
				j.tbl.remove(idx)
			}
			j.mu.Unlock()
			return fmt.Errorf("join: shutdown: %w", ctx.Err())
		}
	}
}

// ConsumeRecords takes a batch of access-log records. It copies what it keeps.
func (j *Join) ConsumeRecords(batch []als.Record) {
	if len(batch) == 0 {
		return
	}
	j.mu.Lock()
	if !j.running {
		j.stats.Refused[SideLog] += uint64(len(batch))
		j.mu.Unlock()
		return
	}
	now := j.clock()
	j.expire(now)
	for i := range batch {
		j.addRecord(&batch[i], now)
	}
	emitted := j.n > 0
	j.mu.Unlock()
	if emitted {
		j.notify(j.wake)
	}
}

// ConsumeSpans takes a batch of spans. It copies what it keeps.
func (j *Join) ConsumeSpans(b *tracing.Batch) {
	if len(b.Spans) == 0 {
		return
	}
	j.mu.Lock()
	if !j.running {
		j.stats.Refused[SideSpan] += uint64(len(b.Spans))
		j.mu.Unlock()
		return
	}
	now := j.clock()
	j.expire(now)
	for i := range b.Spans {
		j.addSpan(&b.Spans[i], now)
	}
	emitted := j.n > 0
	j.mu.Unlock()
	if emitted {
		j.notify(j.wake)
	}
}

// clock is the time since the join's epoch, in ns; never negative, so that a clock
// stepping back cannot make an expiry time wrap.
func (j *Join) clock() int64 { return max(int64(j.now().Sub(j.epoch)), 0) }

// expiresAt is the expiry of an entry that arrives at now: the window's end in whole
// seconds, rounded up.
func (j *Join) expiresAt(now int64) uint32 {
	s := (now + j.window + int64(time.Second) - 1) / int64(time.Second)
	return uint32(min(s, math.MaxUint32))
}

// expire emits alone the entries whose window has ended by now.
func (j *Join) expire(now int64) {
	sec := uint64(now / int64(time.Second))
	for {
		idx, ok := j.tbl.oldest()
		if !ok || uint64(j.tbl.entries[idx].expires) > sec {
			return
		}
		j.emitAlone(&j.tbl.entries[idx], ReasonExpired)
		j.tbl.remove(idx)
	}
}

// tick expires entries every Config.Tick until stop is closed: without traffic nothing
// else would.
func (j *Join) tick(stop <-chan struct{}) {
	t := time.NewTicker(j.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			j.expireNow()
		}
	}
}

// expireNow emits alone the entries whose window has ended.
func (j *Join) expireNow() {
	j.mu.Lock()
	if j.running {
		j.expire(j.clock())
	}
	j.mu.Unlock()
	j.notify(j.wake)
}

// item returns the next free item of the ring, set to why, or nil when the ring is full:
// the item is then dropped, and counted. It is nil too when the join only counts.
func (j *Join) item(why Reason) *Joined {
	if j.countOnly {
		return nil
	}
	if j.n == len(j.ring) {
		j.stats.Dropped++
		return nil
	}
	i := j.head + j.n
	if i >= len(j.ring) {
		i -= len(j.ring)
	}
	j.n++
	it := &j.ring[i]
	*it = Joined{Reason: why}
	return it
}

// deliver hands the ring's items to the consumer, a contiguous run at a time, until quit
// is set and the ring is empty.
func (j *Join) deliver() {
	for {
		j.mu.Lock()
		for j.n == 0 {
			if j.quit {
				j.mu.Unlock()
				return
			}
			j.mu.Unlock()
			<-j.wake
			j.mu.Lock()
		}
		from := j.head
		k := min(j.n, len(j.ring)-from, maxDeliver)
		j.mu.Unlock()

		j.next.ConsumeJoined(j.ring[from : from+k])

		j.mu.Lock()
		j.head = (from + k) % len(j.ring)
		j.n -= k
		j.mu.Unlock()
		j.notify(j.space)
	}
}

// notify signals c without waiting: one signal pending is enough.
func (j *Join) notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
