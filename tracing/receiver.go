package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgetel/edgetel/internal/handoff"
	"github.com/edgetel/edgetel/internal/otlpgrpc"
)

// ErrAlreadyStarted is returned by Start on a receiver that is running.
var ErrAlreadyStarted = errors.New("tracing: receiver already started")

// errNotRunning answers a request that arrives while the receiver is stopped: Unavailable
// is retryable in OTLP, so an SDK tries again, here once the sink runs or at another.
var errNotRunning = status.Error(codes.Unavailable, "trace receiver is not running")

// Retention bounds for pooled batches, as in the access-log receiver: a batch that grew
// for one large request is not kept.
const (
	retainSpans = 4096
	spanBytes   = int64(unsafe.Sizeof(Span{}))
)

// Receiver is OTLP's trace service (opentelemetry.proto.collector.trace.v1.TraceService)
// over gRPC, as Envoy's OpenTelemetry tracer sends to it. Register it on a gRPC server
// with Register; it needs no server options.
//
// Each request is decoded by pdata on its gRPC goroutine, its spans are read once into
// Span values (see Batch), and the batch goes to a bounded queue that Workers goroutines
// drain into the Consumer. The answer does not wait for the consumer:
//
//   - a request that does not decode: InvalidArgument (not retryable), counted;
//   - spans with an invalid ID, or past MaxSpansPerRequest: rejected, counted, and
//     reported in the response's partial success (not retryable);
//   - a full queue: the request's spans are dropped, counted, and reported the same way.
//     Envoy's tracer does not retry (it sends each flush once and forgets it) and OTLP
//     SDKs would retry a retryable code into a sink that is already behind; a partial
//     success keeps the sender's view and the drop counter equal to what was lost;
//   - a receiver that is not running: Unavailable (retryable: another replica, or this
//     one once started, can take it); counted as dropped.
//
// The receiver's self-telemetry (edgetel_tracing_*) is collected by registering the
// Receiver itself, a prometheus.Collector, with a registry.
type Receiver struct {
	cfg     ReceiverConfig
	next    Consumer
	log     *slog.Logger
	tel     *telemetry
	batches sync.Pool // of *batch
	queue   handoff.Queue[*batch]
}

// batch is an accepted request on its way to the consumer; the unit of reuse.
type batch struct {
	cost int64 // what it counts against QueueBytes while queued
	Batch
}

// NewReceiver returns a receiver that gives what it accepts to next. Its logger may be nil.
func NewReceiver(cfg ReceiverConfig, next Consumer, logger *slog.Logger) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if next == nil {
		return nil, fmt.Errorf("%w: no consumer", ErrInvalidConfig)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Receiver{cfg: cfg.withDefaults(), next: next, log: logger}
	r.queue = handoff.Queue[*batch]{Size: r.cfg.QueueRequests, MaxCost: r.cfg.QueueBytes, Workers: r.cfg.Workers, Deliver: r.deliver}
	r.tel = newTelemetry(r.queue.Cost())
	r.batches.New = func() any { return new(batch) }
	return r, nil
}

// Start starts the workers that feed the consumer. It returns at once; the workers run
// until Shutdown, not until ctx ends. A receiver may be started again after Shutdown.
func (r *Receiver) Start(context.Context) error {
	if err := r.queue.Start(); err != nil {
		return ErrAlreadyStarted
	}
	return nil
}

// Shutdown stops taking requests, then waits until the consumer has been given every batch
// already queued, or until ctx ends. It is safe to call twice, and without Start.
func (r *Receiver) Shutdown(ctx context.Context) error {
	if err := r.queue.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: receiver shutdown: %w", err)
	}
	return nil
}

// export takes one decoded request; see the Receiver's comment for what it answers.
func (r *Receiver) export(_ context.Context, req ptraceotlp.ExportRequest, wireBytes int) (*otlpgrpc.Response, error) {
	td := req.Traces()
	n := td.SpanCount()
	r.tel.requests.Inc()
	r.tel.received.Add(float64(n))
	if !r.running() {
		r.tel.droppedNotRunning.Add(float64(n))
		return nil, errNotRunning
	}
	b := r.batches.Get().(*batch)
	x := extract(td, r.cfg.limits(), &b.Batch)
	r.tel.observe(x)
	var why []string
	if x.invalid > 0 {
		why = append(why, strconv.Itoa(x.invalid)+" with an all-zero trace or span ID")
	}
	if x.overLimit > 0 {
		why = append(why, strconv.Itoa(x.overLimit)+" past the limit of "+
			strconv.Itoa(r.cfg.MaxSpansPerRequest)+" per request")
	}
	rejected := x.invalid + x.overLimit
	if len(b.Spans) == 0 {
		r.release(b)
	} else if dropped, err := r.enqueue(b, wireBytes); err != nil {
		return nil, err
	} else if dropped > 0 {
		rejected += dropped
		why = append(why, strconv.Itoa(dropped)+" dropped because the sink is behind")
	}
	if rejected == 0 {
		return otlpgrpc.Accepted, nil
	}
	return partialSuccess(rejected, "spans not accepted: "+strings.Join(why, "; ")), nil
}

// enqueue hands b to the workers without waiting. If they are behind, b is dropped and
// the number of its spans returned; if the receiver stopped meanwhile, errNotRunning.
func (r *Receiver) enqueue(b *batch, wireBytes int) (dropped int, err error) {
	n := len(b.Spans)
	b.cost = int64(wireBytes) + int64(n)*spanBytes
	switch r.queue.Offer(b, b.cost) {
	case handoff.Queued:
		return 0, nil
	case handoff.Stopped:
		r.tel.droppedNotRunning.Add(float64(n))
		r.release(b)
		return 0, errNotRunning
	}
	r.tel.droppedQueueFull.Add(float64(n))
	r.release(b)
	return n, nil
}

// deliver gives a queued batch to the consumer; it runs on the queue's workers.
func (r *Receiver) deliver(b *batch) {
	r.next.ConsumeSpans(&b.Batch)
	r.release(b)
}

func (r *Receiver) running() bool { return r.queue.Running() }

// release returns b to the pool, without the request it referred to, unless one large
// request made it too big to keep.
func (r *Receiver) release(b *batch) {
	if cap(b.Spans) > retainSpans {
		return
	}
	clear(b.Spans) // drop the views, so that the pool does not pin requests
	b.Spans = b.Spans[:0]
	b.Traces = ptrace.Traces{}
	b.cost = 0
	r.batches.Put(b)
}
