package jaeger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/tracing"
)

// ErrAlreadyStarted is returned by Start on an exporter that is running.
var ErrAlreadyStarted = errors.New("jaeger: exporter already started")

// Exporter sends spans to Jaeger over OTLP/gRPC: the trace receiver's, enriched by the
// join, and spans synthesized for bad requests that have none (see the package comment).
//
// ConsumeSpans and ConsumeJoined copy what they keep, never wait for the network, and are
// safe for concurrent use; so are Collect and Shutdown. Give each trace-receiver batch to
// ConsumeSpans before the join sees it, so that the span waits here when the join emits
// it. The exporter's self-telemetry (edgetel_jaeger_*) is collected by registering the
// Exporter itself, a prometheus.Collector.
type Exporter struct {
	cfg Config
	log *slog.Logger
	tel *telemetry
	now func() time.Time

	queued atomic.Int64 // spans in the queue

	// mu is held for writing to start and stop, for reading by everything that queues
	// spans, so that the queue is never closed under a sender.
	mu      sync.RWMutex
	queue   chan item // nil unless running
	conn    *grpc.ClientConn
	cancel  context.CancelFunc // ends the running export's retries
	stop    chan struct{}      // closed to stop the expiry ticker
	done    chan struct{}      // closed when the last run's goroutines have returned
	running bool

	pmu     sync.Mutex // guards pending
	pending *pending
}

var (
	_ tracing.Consumer = (*Exporter)(nil)
	_ join.Consumer    = (*Exporter)(nil)
)

// New returns an exporter to cfg.Endpoint, which must be set. Its logger may be nil.
func New(cfg Config, logger *slog.Logger) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, fmt.Errorf("%w: no Endpoint", ErrInvalidConfig)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{cfg: cfg.withDefaults(), log: logger, now: time.Now}
	e.pending = newPending(e.cfg.MaxPending)
	e.tel = newTelemetry(
		func() float64 { return float64(e.queued.Load()) },
		func() float64 { e.pmu.Lock(); defer e.pmu.Unlock(); return float64(e.pending.len()) },
	)
	return e, nil
}

// Start connects (lazily: gRPC dials on the first Export) and starts the goroutines that
// batch, send and expire. It returns at once; they run until Shutdown, not until ctx ends.
// An exporter may be started again after Shutdown.
func (e *Exporter) Start(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running {
		return ErrAlreadyStarted
	}
	if e.done != nil {
		<-e.done // a Shutdown whose context ended: its goroutines end on their own, soon
	}
	bo := backoff.DefaultConfig
	bo.BaseDelay, bo.MaxDelay = e.cfg.InitialBackoff, e.cfg.MaxBackoff
	conn, err := grpc.NewClient(e.cfg.Endpoint,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// Reconnect within MaxBackoff of Jaeger coming back, not gRPC's default two minutes.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: e.cfg.Timeout}))
	if err != nil {
		return fmt.Errorf("jaeger: connect %s: %w", e.cfg.Endpoint, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	queue, stop := make(chan item, e.cfg.QueueSpans), make(chan struct{})
	e.queue, e.conn, e.cancel = queue, conn, cancel
	e.stop, e.done = stop, make(chan struct{})
	e.running = true
	s := &sender{
		cfg: e.cfg, tel: e.tel, log: e.log, queued: &e.queued,
		client: ptraceotlp.NewGRPCClient(conn), ctx: runCtx,
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.run(queue) })
	wg.Go(func() { e.tick(stop) })
	go func(done chan struct{}) { wg.Wait(); close(done) }(e.done)
	return nil
}

// Shutdown stops taking spans, releases those waiting for the join, and waits until
// everything queued has been sent, or until ctx ends: then the running export stops and
// what is left is dropped and counted (reason shutdown). Safe to call twice, and without
// Start. Stop the join first, so that what it holds reaches the exporter.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	wasRunning, done, cancel, conn := e.running, e.done, e.cancel, e.conn
	if wasRunning {
		e.running = false
		close(e.stop)
		e.pmu.Lock()
		left := e.pending.expired(time.Time{}, nil)
		e.pmu.Unlock()
		e.tel.unjoined[unjoinedShutdown].Add(float64(len(left)))
		for _, it := range left {
			e.enqueueLocked(it)
		}
		close(e.queue)
		e.queue = nil
	}
	e.mu.Unlock()
	if done == nil {
		return nil
	}
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		cancel() // the sender drops the rest at once, counted
		<-done
		err = fmt.Errorf("jaeger: shutdown: %w", ctx.Err())
	}
	cancel()
	if wasRunning {
		if cerr := conn.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("jaeger: close connection: %w", cerr)
		}
	}
	return err
}

// ConsumeSpans takes a copy of every span in b: one without a request ID is queued at
// once, the others wait for the join.
func (e *Exporter) ConsumeSpans(b *tracing.Batch) {
	n := b.Traces.SpanCount()
	if n == 0 {
		return
	}
	e.tel.received.Add(float64(n))
	e.mu.RLock()
	defer e.mu.RUnlock()
	if !e.running {
		e.tel.drop(dropNotRunning, n)
		return
	}
	expires := e.now().Add(e.cfg.Window)
	var out []item // queued after pmu is released
	rss := b.Traces.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			if spans.Len() == 0 {
				continue
			}
			from := &origin{res: copyResource(rs), scope: copyScope(ss)}
			e.pmu.Lock()
			for k := 0; k < spans.Len(); k++ {
				src := spans.At(k)
				it := item{span: ptrace.NewSpan(), from: from}
				src.CopyTo(it.span)
				if v, ok := src.Attributes().Get(tracing.AttrRequestID); !ok || v.Str() == "" {
					out = append(out, it) // nothing to join on: the join emits it alone at once
					continue
				}
				replaced, evicted := e.pending.put(spanKey{src.TraceID(), src.SpanID()}, it, expires)
				if replaced != nil {
					out = append(out, *replaced)
				}
				if evicted != nil {
					e.tel.unjoined[unjoinedEvicted].Inc()
					out = append(out, *evicted)
				}
			}
			e.pmu.Unlock()
		}
	}
	for _, it := range out {
		e.enqueueLocked(it)
	}
}

// ConsumeJoined takes what the join emits: a matched span is enriched and queued, a span
// emitted alone is queued as it came, a bad record alone gets a synthesized span.
func (e *Exporter) ConsumeJoined(batch []join.Joined) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []item
	e.pmu.Lock()
	for i := range batch {
		j := &batch[i]
		switch {
		case j.HasSpan:
			it, ok := e.pending.take(spanKey{j.Span.TraceID, j.Span.SpanID})
			if !ok {
				continue // released already (evicted, expired), or never given to us
			}
			if j.HasRecord {
				Enrich(it.span, &j.Record, j.Verdict)
				e.tel.enriched.Inc()
			}
			out = append(out, it)
		case j.HasRecord && j.Verdict.Bad():
			it := item{span: ptrace.NewSpan(), from: synthesized, synthesized: true}
			Synthesize(it.span, &j.Record, j.Verdict)
			e.tel.synthesized.Inc()
			out = append(out, it)
		}
	}
	e.pmu.Unlock()
	if !e.running {
		e.tel.drop(dropNotRunning, len(out))
		return
	}
	for _, it := range out {
		e.enqueueLocked(it)
	}
}

// enqueueLocked queues it for export without waiting, or drops it, counted, when the
// queue is full. The caller holds mu (read or write) and has seen the exporter running.
func (e *Exporter) enqueueLocked(it item) {
	e.queued.Add(1)
	it.queued = time.Now()
	select {
	case e.queue <- it:
	default:
		e.queued.Add(-1)
		e.tel.drop(dropQueueFull, 1)
	}
}

// tick releases the spans whose wait for the join ended, until stop is closed.
func (e *Exporter) tick(stop <-chan struct{}) {
	t := time.NewTicker(min(max(e.cfg.Window/4, 10*time.Millisecond), time.Second))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			e.expire()
		}
	}
}

func (e *Exporter) expire() {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if !e.running {
		return
	}
	e.pmu.Lock()
	out := e.pending.expired(e.now(), nil)
	e.pmu.Unlock()
	e.tel.unjoined[unjoinedExpired].Add(float64(len(out)))
	for _, it := range out {
		e.enqueueLocked(it)
	}
}
