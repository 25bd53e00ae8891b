package otlp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/internal/handoff"
	"github.com/edgetel/edgetel/internal/otlpgrpc"
	"github.com/edgetel/edgetel/internal/rawpb"
)

// ErrAlreadyStarted is returned by Start on a receiver that is running.
var ErrAlreadyStarted = errors.New("otlp logs: receiver already started")

// errNotRunning answers a request that arrives while the receiver is stopped: Unavailable
// is retryable in OTLP.
var errNotRunning = status.Error(codes.Unavailable, "OTLP logs receiver is not running")

// Retention bounds for pooled batches: a batch that grew for one large request is not kept.
const (
	retainRecords = 4096
	retainBytes   = 1 << 20
	// retainRawBytes keeps the buffer of a request of Envoy's usual flush (16 KiB) with
	// room to spare, not that of a rare 4 MiB one.
	retainRawBytes = 256 << 10
	recordBytes    = int64(unsafe.Sizeof(als.Record{}))
)

// Receiver is OTLP's logs service (opentelemetry.proto.collector.logs.v1.LogsService) over
// gRPC, as Envoy's OpenTelemetry access logger sends to it. Register it on a gRPC server
// with Register; it needs no server options.
//
// Each request is received as its bytes and decoded on its gRPC goroutine straight from the
// wire into als.Record values (see the package comment and decodeLogs), which are views of
// those bytes; the batch goes to a bounded queue that Workers goroutines drain into the
// als.Consumer. The answer does not wait for the consumer:
//
//   - a request that does not decode: InvalidArgument (not retryable), counted;
//   - records whose values do not parse, or past MaxRecordsPerRequest: rejected, counted,
//     and reported in the response's partial success (not retryable);
//   - a full queue: the request's records are dropped, counted, and reported the same way
//     (Envoy's logger does not retry a failed Export: it is lost either way, and a partial
//     success keeps the sender's view and the drop counter equal);
//   - a receiver that is not running: Unavailable (retryable), counted as dropped.
//
// The receiver's self-telemetry (edgetel_otlp_logs_*) is collected by registering the
// Receiver itself, a prometheus.Collector, with a registry.
type Receiver struct {
	cfg     ReceiverConfig
	next    als.Consumer
	log     *slog.Logger
	tel     *telemetry
	batches sync.Pool // of *batch
	queue   handoff.Queue[*batch]
	// routes is the model in force's, to resolve records' routes in (see als.RouteIndex).
	routes atomic.Pointer[als.RouteIndex]
}

// batch is a request as received and its records, on their way to the consumer; the unit
// of reuse. It is the request type of the gRPC service (see service).
type batch struct {
	raw  []byte // the request's bytes, which the records are views of
	cost int64  // what it counts against QueueBytes while queued
	Batch
}

// UnmarshalProto keeps the request's bytes. It is called by pdata's gRPC codec (see
// otlpgrpc), which reuses its buffer once it returns: hence the copy, one memmove into a
// buffer the pool keeps.
func (b *batch) UnmarshalProto(msg []byte) error {
	b.raw = append(b.raw[:0], msg...)
	return nil
}

// MarshalProto returns the request's bytes, for an interceptor that asks for them.
func (b *batch) MarshalProto() ([]byte, error) { return b.raw, nil }

// ReadWire keeps the request's bytes under the sink's codec (rawpb.Codec), copied once
// from gRPC's receive buffers.
func (b *batch) ReadWire(data mem.BufferSlice) error {
	b.raw = rawpb.CopyWire(b.raw, data)
	return nil
}

// NewReceiver returns a receiver that gives what it accepts to next. Its logger may be nil.
func NewReceiver(cfg ReceiverConfig, next als.Consumer, logger *slog.Logger) (*Receiver, error) {
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
		return fmt.Errorf("otlp logs: receiver shutdown: %w", err)
	}
	return nil
}

// SetRoutes makes the receiver resolve each record's route in x's model from its next
// request on (see als.Record.RouteIn). Safe for concurrent use; nil stops it.
func (r *Receiver) SetRoutes(x *als.RouteIndex) { r.routes.Store(x) }

// export takes one received request; see the Receiver's comment for what it answers. It
// owns b: b is queued or released.
func (r *Receiver) export(_ context.Context, b *batch, _ int) (*otlpgrpc.Response, error) {
	x, err := decodeLogs(b.raw, limits{maxRecords: r.cfg.MaxRecordsPerRequest, maxValue: r.cfg.MaxValueBytes}, &b.Batch)
	if err != nil {
		r.release(b)
		r.tel.malformed.Inc()
		return nil, status.Errorf(codes.InvalidArgument, "%v", err)
	}
	n := len(b.Records) + x.invalid + x.overLimit
	r.tel.requests.Inc()
	r.tel.received.Add(float64(n))
	if !r.running() {
		r.release(b)
		r.tel.droppedNotRunning.Add(float64(n))
		return nil, errNotRunning
	}
	r.tel.observe(x)
	if routes := r.routes.Load(); routes != nil {
		for i := range b.Records {
			routes.Resolve(&b.Records[i])
		}
	}
	var why []string
	if x.invalid > 0 {
		why = append(why, strconv.Itoa(x.invalid)+" with a value that does not parse (first: "+x.firstInvalid+")")
	}
	if x.overLimit > 0 {
		why = append(why, strconv.Itoa(x.overLimit)+" past the limit of "+
			strconv.Itoa(r.cfg.MaxRecordsPerRequest)+" per request")
	}
	rejected := x.invalid + x.overLimit
	if len(b.Records) == 0 {
		r.release(b)
	} else if dropped, err := r.enqueue(b); err != nil {
		return nil, err
	} else if dropped > 0 {
		rejected += dropped
		why = append(why, strconv.Itoa(dropped)+" dropped because the sink is behind")
	}
	if rejected == 0 {
		return otlpgrpc.Accepted, nil
	}
	return partialSuccess(rejected, "log records not accepted: "+strings.Join(why, "; ")), nil
}

// enqueue hands b to the workers without waiting. If they are behind, b is dropped and
// the number of its records returned; if the receiver stopped meanwhile, errNotRunning.
func (r *Receiver) enqueue(b *batch) (dropped int, err error) {
	n := len(b.Records)
	b.cost = int64(len(b.raw)) + int64(n)*recordBytes + int64(len(b.buf))
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
	r.next.ConsumeRecords(b.Records)
	r.tel.delivered.Add(float64(len(b.Records)))
	r.release(b)
}

func (r *Receiver) running() bool { return r.queue.Running() }

// release returns b to the pool unless one large request made it too big to keep.
func (r *Receiver) release(b *batch) {
	if cap(b.Records) > retainRecords || cap(b.buf) > retainBytes || cap(b.raw) > retainRawBytes {
		return
	}
	b.reset()
	b.raw = b.raw[:0]
	b.cost = 0
	r.batches.Put(b)
}
