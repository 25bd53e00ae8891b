package sim

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
)

type alsStream = grpc.ClientStreamingClient[alsv3.StreamAccessLogsMessage, alsv3.StreamAccessLogsResponse]

// errEndedByServer stands for a stream the server ended cleanly while the node still had
// entries to send: what was sent after the server stopped reading never arrived.
var errEndedByServer = errors.New("the sink ended the access-log stream")

// node is one Envoy node for one run: its generator (which outlives the run), its stream
// and its buffer. Only the node's goroutine touches it.
type node struct {
	index  int
	id     string
	ident  *alsv3.StreamAccessLogsMessage_Identifier
	gen    *Generator
	cfg    *Config
	rec    *recorder
	client alsv3.AccessLogServiceClient
	// ctx is the parent of the node's streams: canceling it aborts them.
	ctx context.Context

	stream   alsStream
	cancel   context.CancelFunc
	first    bool   // the next message is the stream's first and carries the identifier
	onStream uint64 // entries Send accepted on the current stream

	buf     batch
	retryAt time.Time
	backoff time.Duration

	// lost and unconfirmed count this run's losses, for SendN to report.
	lost, unconfirmed uint64

	// virtual is true when the node runs on its generator's clock (runVirtual).
	virtual bool
	conn    *grpc.ClientConn
	logs    plogotlp.GRPCClient // nil unless the access logs go as OTLP logs
	signals
}

// add buffers an entry and flushes once the buffer reaches BufferSize, as Envoy's buffered
// logger does: a message holds at most BufferSize plus one entry. Then it counts the
// request in the node's stats and buffers its span.
func (n *node) add(e *accesslogv3.HTTPAccessLogEntry, r *Request) {
	n.buf.add(e, r)
	if n.buf.size >= n.cfg.BufferSize {
		n.flush()
	}
	n.observe(r)
}

// flush sends the buffer as one message, opening a stream if there is none. Like Envoy,
// it drops the batch when there is no stream to send it on or the send fails.
func (n *node) flush() {
	count := len(n.buf.entries)
	if count == 0 {
		return
	}
	defer n.buf.reset()
	if n.logs != nil {
		n.flushOTLP()
		return
	}
	if n.stream == nil && !n.open() {
		n.drop(count)
		return
	}
	var id *alsv3.StreamAccessLogsMessage_Identifier
	if n.first {
		id = n.ident
	}
	if err := n.stream.Send(Message(id, n.buf.entries)); err != nil {
		n.drop(count)
		n.broken(err)
		return
	}
	n.first, n.backoff = false, 0
	n.onStream += uint64(count)
	n.rec.sent(n.id, n.buf.outs)
}

func (n *node) drop(count int) {
	n.lost += uint64(count)
	n.rec.lost(n.id, count)
}

// open starts a stream unless the node is backing off after a failure.
func (n *node) open() bool {
	if time.Now().Before(n.retryAt) {
		return false
	}
	ctx, cancel := context.WithCancel(n.ctx)
	s, err := n.client.StreamAccessLogs(ctx)
	if err != nil {
		cancel()
		n.rec.failed(n.id, err)
		n.backOff()
		return false
	}
	n.stream, n.cancel, n.first, n.onStream = s, cancel, true, 0
	n.rec.streamOpened(n.id)
	return true
}

// broken gives up a stream whose Send failed. Send reports io.EOF when the server ended
// the stream; the status it ended it with is what a person needs to read.
func (n *node) broken(err error) {
	if errors.Is(err, io.EOF) {
		if _, err = n.stream.CloseAndRecv(); err == nil {
			err = errEndedByServer
		}
	}
	n.end(err)
	n.backOff()
}

// finish flushes the buffer and closes the stream cleanly: once CloseAndRecv returns the
// server's OK, the server has read everything sent on the stream. Then it flushes the spans
// and the stats, as Envoy does on shutdown.
func (n *node) finish() {
	n.flush()
	if n.stream != nil {
		_, err := n.stream.CloseAndRecv()
		n.end(err)
	}
	n.finishSignals()
}

func (n *node) end(err error) {
	if err != nil {
		n.unconfirmed += n.onStream
	}
	n.rec.streamClosed(n.id, n.onStream, err)
	n.cancel()
	n.stream, n.cancel, n.onStream = nil, nil, 0
}

// backOff doubles the wait before the next stream, with jitter so that a fleet whose sink
// restarts does not reconnect in lockstep. The jitter does not come from the generator:
// reconnecting must not change the traffic.
func (n *node) backOff() {
	n.backoff = min(max(2*n.backoff, n.cfg.ReconnectBackoff), maxReconnectBackoff)
	wait := n.backoff/2 + rand.N(n.backoff/2+1)
	n.retryAt = time.Now().Add(wait)
}
