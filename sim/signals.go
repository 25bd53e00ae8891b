package sim

import (
	"context"
	"time"

	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// exportTimeout bounds one OTLP Export, as the timeout of Envoy's gRPC service does.
const exportTimeout = 5 * time.Second

// signals is what a node sends besides its access logs, on the same connection: its stats
// (Envoy's metrics-service sink) and its spans (Envoy's OpenTelemetry tracer). Both follow
// the node's clock, real or virtual, and both are derived from the Request values that make
// the access-log entries. A nil stats or spans is a signal the config turned off.
type signals struct {
	stats       *NodeStats // the fleet's, kept across runs
	statsIdent  *metricsv3.StreamMetricsMessage_Identifier
	statsStream *StatsStream // nil until the next tick opens one
	statsCancel context.CancelFunc
	statsSent   uint64    // flushes Send accepted on statsStream
	statsDue    time.Time // when the stats flush timer fires next

	spans  *SpanBuffer
	traces ptraceotlp.GRPCClient
}

// observe counts r in the node's stats and buffers its span; Add hands out a full buffer.
func (n *node) observe(r *Request) {
	if n.stats != nil {
		n.stats.Observe(r)
	}
	if n.spans != nil {
		if req, ok := n.spans.Add(r); ok {
			n.export(req)
		}
	}
}

// startSignals arms the stats and span flush timers at now, on the node's clock.
func (n *node) startSignals(now time.Time) {
	n.statsDue = now.Add(n.cfg.StatsFlushInterval)
	if n.spans != nil {
		n.spans.Tick(now)
	}
}

// tickSignals runs the stats and span flush timers up to now. On the virtual clock a stats
// flush is stamped with the time its timer fired; several intervals without a request make
// one flush, their deltas summed.
func (n *node) tickSignals(now time.Time) {
	if n.spans != nil {
		if req, ok := n.spans.Tick(now); ok {
			n.export(req)
		}
	}
	if n.stats == nil || now.Before(n.statsDue) {
		return
	}
	if n.virtual {
		n.flushStats(n.statsDue)
		n.statsDue = nextFlush(n.statsDue, now, n.cfg.StatsFlushInterval)
		return
	}
	n.flushStats(now)
	n.statsDue = now.Add(n.cfg.StatsFlushInterval)
}

// nextSignal is when the stats timer fires next; zero when the node sends no stats. The
// span timer needs no wake-up of its own: the access-log flush timer, which fires more
// often, runs it.
func (n *node) nextSignal() time.Time {
	if n.stats == nil {
		return time.Time{}
	}
	return n.statsDue
}

// flushStats sends the deltas since the previous flush, opening a stream if there is none.
// As Envoy's sink does, it drops the flush when the stream cannot be opened or Send fails,
// and the next tick opens a new stream.
func (n *node) flushStats(at time.Time) {
	msg := n.stats.Flush(at)
	if n.statsStream == nil && !n.openStats() {
		n.rec.statsLost(n.id, nil)
		return
	}
	if err := n.statsStream.Send(msg); err != nil {
		n.rec.statsLost(n.id, err)
		n.endStats(err)
		return
	}
	n.statsSent++
	n.rec.statsSent(n.id, msg)
}

func (n *node) openStats() bool {
	ctx, cancel := context.WithCancel(n.ctx)
	s, err := OpenStatsStream(ctx, n.conn, n.statsIdent)
	if err != nil {
		cancel()
		n.rec.statsFailed(n.id, err)
		return false
	}
	n.statsStream, n.statsCancel, n.statsSent = s, cancel, 0
	n.rec.statsOpened(n.id)
	return true
}

// endStats forgets the stream; err is nil when it closed cleanly, otherwise the flushes
// sent on it are unconfirmed.
func (n *node) endStats(err error) {
	n.rec.statsClosed(n.id, n.statsSent, err)
	n.statsCancel()
	n.statsStream, n.statsCancel, n.statsSent = nil, nil, 0
}

// export sends one flush of the span buffer, once: Envoy's tracer never retries an Export.
func (n *node) export(req ptraceotlp.ExportRequest) {
	count := req.Traces().SpanCount()
	ctx, cancel := context.WithTimeout(n.ctx, exportTimeout)
	defer cancel()
	if _, err := n.traces.Export(ctx, req); err != nil {
		n.rec.spansLost(n.id, count, err)
		return
	}
	n.rec.spansSent(n.id, count)
}

// finishSignals exports the spans still buffered, sends a last stats flush and closes the
// stats stream cleanly, as Envoy does when it shuts down.
func (n *node) finishSignals() {
	if n.spans != nil {
		if req, ok := n.spans.Flush(); ok {
			n.export(req)
		}
	}
	if n.stats == nil {
		return
	}
	n.flushStats(n.now())
	if n.statsStream != nil {
		n.endStats(n.statsStream.Close())
	}
}

// now is the time on the node's clock.
func (n *node) now() time.Time {
	if n.virtual {
		return n.gen.Now()
	}
	return time.Now()
}
