package als

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"unsafe"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgetel/edgetel/internal/handoff"
)

// ErrAlreadyStarted is returned by Start on a receiver that is running.
var ErrAlreadyStarted = errors.New("als: receiver already started")

// errNotRunning ends a stream that arrives, or sends, while the receiver is stopped; Envoy
// reconnects, to this sink once it runs again or to another.
var errNotRunning = status.Error(codes.Unavailable, "access-log receiver is not running")

// Retention bounds for pooled batches: a batch that grew past them for one large message
// is not kept, so that one burst does not pin memory for the life of the process.
const (
	retainMessageBytes = 256 << 10
	retainRecords      = 1024
	recordBytes        = int64(unsafe.Sizeof(Record{}))
)

// Receiver is Envoy's access-log service (envoy.service.accesslog.v3.AccessLogService).
// Register it on a gRPC server with accesslogv3.RegisterAccessLogServiceServer; it needs
// no server options and leaves the server's codec as it is for other services.
//
// Each stream's messages are decoded on the stream's goroutine, straight from the wire
// (see Decoder), and handed as one batch per message to a bounded queue that Workers
// goroutines drain into the Consumer. A full queue drops the batch and counts it: Envoy is
// never made to wait. A malformed message is counted and skipped, and the stream goes on:
// gRPC frames each message on its own, so the next one decodes as if nothing happened.
//
// The receiver's self-telemetry (edgetel_als_*) is collected by registering the Receiver
// itself, a prometheus.Collector, with a registry.
//
// Envoy's streams never end by themselves, so a gRPC server's GracefulStop waits for them
// forever: stop the server with a deadline (GracefulStop, then Stop), then Shutdown the
// receiver so that what is queued reaches the consumer.
type Receiver struct {
	accesslogv3.UnimplementedAccessLogServiceServer

	cfg     ReceiverConfig
	next    Consumer
	log     *slog.Logger
	tel     *telemetry
	batches sync.Pool // of *batch
	queue   handoff.Queue[*batch]
	// routes is the model in force's, for the decoders to resolve routes in.
	routes atomic.Pointer[RouteIndex]
}

var _ accesslogv3.AccessLogServiceServer = (*Receiver)(nil)

// batch is a message as received and its decoding; the unit of hand-off and reuse.
type batch struct {
	raw  message
	cost int64 // what it counts against QueueBytes while queued
	Batch
}

// NewReceiver returns a receiver that gives what it decodes to next. Its logger may be
// nil; it logs only the first malformed message of each stream, the rest being counted.
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
	r.queue = handoff.Queue[*batch]{Size: r.cfg.QueueBatches, MaxCost: r.cfg.QueueBytes, Workers: r.cfg.Workers, Deliver: r.deliver}
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

// Shutdown stops taking messages, then waits until the consumer has been given every
// batch already queued, or until ctx ends. Open streams end with Unavailable on their next
// message. It is safe to call twice, and without Start.
func (r *Receiver) Shutdown(ctx context.Context) error {
	if err := r.queue.Shutdown(ctx); err != nil {
		return fmt.Errorf("als: receiver shutdown: %w", err)
	}
	return nil
}

// SetRoutes makes the decoders resolve each record's route in x's model from their next
// message on (see Record.RouteIn). Safe for concurrent use; nil stops them.
func (r *Receiver) SetRoutes(x *RouteIndex) { r.routes.Store(x) }

// StreamAccessLogs receives one Envoy stream until it ends.
func (r *Receiver) StreamAccessLogs(stream accesslogv3.AccessLogService_StreamAccessLogsServer) error {
	if !r.running() {
		return errNotRunning
	}
	r.tel.streams.Inc()
	r.tel.streamsOpen.Inc()
	defer r.tel.streamsOpen.Dec()

	s := envoyStream{r: r, dec: NewDecoder(r.cfg.limits())}
	for {
		b := r.batches.Get().(*batch)
		// RecvMsg, not Recv: see message.
		if err := stream.RecvMsg(&b.raw); err != nil {
			r.release(b)
			if errors.Is(err, io.EOF) {
				return stream.SendAndClose(&accesslogv3.StreamAccessLogsResponse{})
			}
			return err
		}
		if err := s.receive(b); err != nil {
			return err
		}
	}
}

// envoyStream is the receiver's state for one Envoy stream.
type envoyStream struct {
	r         *Receiver
	dec       *Decoder
	malformed bool // one was logged already
}

// receive decodes one message and hands it on. An error ends the stream.
func (s *envoyStream) receive(b *batch) error {
	r := s.r
	s.dec.routes = r.routes.Load()
	if err := b.raw.decode(s.dec, &b.Batch); err != nil {
		r.tel.messages.Inc()
		r.tel.malformed.Inc()
		r.release(b)
		if !s.malformed {
			s.malformed = true
			node, _, _ := s.dec.Identity()
			r.log.Warn("malformed access-log message skipped; later ones on this stream are only counted",
				"node", string(node), "error", err)
		}
		return nil
	}
	r.tel.observe(&b.Batch)
	if len(b.Records) == 0 {
		r.release(b)
		return nil
	}
	return r.enqueue(b)
}

// enqueue hands b to the workers without waiting: if they are behind, b is dropped.
func (r *Receiver) enqueue(b *batch) error {
	b.cost = int64(b.raw.size()) + int64(len(b.Records))*recordBytes
	switch r.queue.Offer(b, b.cost) {
	case handoff.Queued:
		return nil
	case handoff.Stopped:
		r.tel.droppedNotRunning.Add(float64(len(b.Records)))
		r.release(b)
		return errNotRunning
	}
	r.tel.droppedQueueFull.Add(float64(len(b.Records)))
	r.release(b)
	return nil
}

// deliver gives a queued batch to the consumer; it runs on the queue's workers.
func (r *Receiver) deliver(b *batch) {
	r.next.ConsumeRecords(b.Records)
	r.release(b)
}

func (r *Receiver) running() bool { return r.queue.Running() }

// release returns b to the pool, unless one large message made it too big to keep.
func (r *Receiver) release(b *batch) {
	b.raw.release()
	if cap(b.raw.Buf) > retainMessageBytes || cap(b.Records) > retainRecords {
		return
	}
	b.reset()
	r.batches.Put(b)
}
