package metrics

import (
	"errors"
	"io"
	"log/slog"

	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
)

// ErrNoStore is returned by NewReceiver without a Store to feed.
var ErrNoStore = errors.New("metrics: a receiver needs a store")

// retainMessageBytes bounds the receive buffer a stream keeps between messages. A large
// Envoy's flush is megabytes, every 10s: keeping each stream's largest would pin that much
// per node for good, so a buffer that grew past this is let go after its message.
const retainMessageBytes = 256 << 10

// Receiver is Envoy's metrics service (envoy.service.metrics.v3.MetricsService). Register
// it on a gRPC server with metricsv3.RegisterMetricsServiceServer; it needs no server
// options and leaves the server's codec as it is for other services.
//
// Each message is decoded on its stream's goroutine, straight from the wire (see decoder),
// and applied to the Store at once: a message is at most a few thousand atomic adds under a
// read lock, every 10s per node, so there is no queue to shed into and Envoy never waits on
// anything but that. A malformed message is counted and skipped whole, and the stream goes
// on. Samples that are kept by name but cannot be applied (limits, wrong types, values, a
// cluster the model does not have) are counted by reason.
//
// It has no Start or Shutdown: it holds no goroutine and nothing to drain. Stopping the
// gRPC server ends its streams, which withdraw their gauge levels from the Store.
// Self-telemetry (edgetel_envoy_stats_*) is collected by registering the Receiver, a
// prometheus.Collector.
type Receiver struct {
	metricsv3.UnimplementedMetricsServiceServer

	dec   decoder
	store *Store
	log   *slog.Logger
	tel   *telemetry
}

var _ metricsv3.MetricsServiceServer = (*Receiver)(nil)

// NewReceiver returns a receiver that applies what it decodes to store. Its logger may be
// nil; it logs only the first malformed message of each stream, the rest being counted.
func NewReceiver(cfg Config, store *Store, logger *slog.Logger) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, ErrNoStore
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Receiver{dec: decoder{cfg: cfg.withDefaults()}, store: store, log: logger, tel: newTelemetry()}, nil
}

// StreamMetrics receives one Envoy stream until it ends.
func (r *Receiver) StreamMetrics(stream metricsv3.MetricsService_StreamMetricsServer) error {
	r.tel.streams.Inc()
	r.tel.streamsOpen.Inc()
	defer r.tel.streamsOpen.Dec()
	s := envoyStream{r: r, feed: r.store.newFeed()}
	defer s.feed.close()
	for {
		// RecvMsg, not Recv: see rawMessage.
		if err := stream.RecvMsg(&s.raw); err != nil {
			if errors.Is(err, io.EOF) {
				return stream.SendAndClose(&metricsv3.StreamMetricsResponse{})
			}
			return err
		}
		s.receive()
	}
}

// envoyStream is the receiver's state for one Envoy stream.
type envoyStream struct {
	r         *Receiver
	feed      *feed
	raw       rawMessage
	msg       decoded
	malformed bool // one was logged already
}

func (s *envoyStream) receive() {
	r := s.r
	defer s.release()
	if err := r.dec.decode(s.raw.Buf, &s.msg); err != nil {
		r.tel.messages.Inc()
		r.tel.malformed.Inc()
		if !s.malformed {
			s.malformed = true
			r.log.Warn("malformed metrics-service message skipped; later ones on this stream are only counted",
				"node", s.nodeID(), "error", err)
		}
		return
	}
	s.feed.identify(s.msg.node)
	applied, unknown := s.feed.apply(s.msg.samples)
	r.tel.observe(&s.msg, applied, unknown)
}

// release drops the views of the message, and its buffer if one large message grew it.
func (s *envoyStream) release() {
	s.msg.reset()
	if cap(s.raw.Buf) > retainMessageBytes {
		s.raw.Buf = nil
	}
}

// nodeID names the stream's node for a log line; empty before a valid identifier.
func (s *envoyStream) nodeID() string {
	if n := s.feed.node; n != nil {
		return n.id
	}
	return ""
}
