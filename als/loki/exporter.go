// Package loki exports access-log records to Grafana Loki with Loki's Go client
// (github.com/grafana/loki-client-go), which batches, encodes (snappy protobuf by default),
// and retries with backoff.
//
// Each HTTP record becomes one line: method, path (query string redacted unless the model
// says otherwise), status, Envoy's response flags, duration, bytes, upstream, request ID,
// trace and span ID, node. Its stream's labels are low-cardinality only: job="edgetel",
// node_group (the Envoy node's cluster, capped), route (from the model, "unmatched"
// otherwise, never from the request) and status_class. The line's timestamp is the
// request's start.
//
// The exporter is an als.Consumer that never blocks its caller: ConsumeRecords formats each
// record into a reused buffer, copies the line once and enqueues it in a bounded buffer, or
// drops it, counted, when the buffer is full. One goroutine hands buffered lines to the
// client; the client holds at most the batch it is sending. Every line is either sent
// (edgetel_loki_lines_sent_total) or counted in edgetel_loki_lines_dropped_total; the
// counts of what the client sent and dropped are read from the client's own counters (see
// clientCounters). See docs/metrics.md.
package loki

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// ErrAlreadyStarted is returned by Start on an exporter that is running.
var ErrAlreadyStarted = errors.New("loki: exporter already started")

// entry is one line waiting for Loki.
type entry struct {
	ts     int64 // Unix nanoseconds of the request's start
	queued int64 // Unix nanoseconds of when the sink buffered it: the export lag's start
	st     *stream
	line   string // emptied once handed to the client; size keeps its length
	size   int
}

// Exporter sends access-log records to Loki. Register it, a prometheus.Collector, for its
// self-telemetry (edgetel_loki_*).
type Exporter struct {
	cfg     Config
	log     *slog.Logger
	tel     *telemetry
	routing atomic.Pointer[routing]
	counts  *clientCounters

	fmtMu   sync.Mutex // serializes formatting into scratch, and routing's node groups
	scratch []byte

	mu      sync.Mutex
	pending ring // not yet handed to the client
	handed  ring // handed to the client, not yet known as sent or dropped
	lines   int  // pending plus handed: what BufferLines bounds
	bytes   int  // likewise for BufferBytes
	// resolved and sent are the client's counts (sent plus dropped, and sent) that settle
	// has accounted for; settled is when enqueue last settled (Unix nanoseconds).
	resolved, sent int
	settled        int64
	running        bool
	wake           chan struct{} // cap 1: lines are pending
	stop           chan struct{} // closed by Shutdown: drain, then return
	done           chan struct{} // closed when the sender has returned
}

var _ als.Consumer = (*Exporter)(nil)

// New returns an exporter for the routes of e (nil: none, every record unmatched). Its
// logger may be nil; it logs the client's failed pushes.
func New(cfg Config, e *model.Edge, logger *slog.Logger) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if _, err := cfg.clientConfig(); err != nil {
		return nil, err
	}
	counts, err := newClientCounters(cfg)
	if err != nil {
		return nil, err
	}
	x := &Exporter{cfg: cfg, log: logger, counts: counts}
	x.tel = newTelemetry(x)
	x.pending.max, x.handed.max = cfg.BufferLines, cfg.BufferLines
	x.SetModel(e)
	return x, nil
}

// SetModel takes a new model's routes and redaction into use for the records that follow.
func (x *Exporter) SetModel(e *model.Edge) {
	x.routing.Store(newRouting(e, x.cfg.NodeGroup, x.cfg.MaxNodeGroups))
}

// ConsumeRecords formats each record and buffers its line for Loki, or drops it, counted,
// when the buffer is full or the exporter is not running. It copies what it keeps (each
// line, once) and never waits for Loki. Safe for concurrent use.
func (x *Exporter) ConsumeRecords(batch []als.Record) {
	rt := x.routing.Load()
	now := time.Now().UnixNano()
	x.fmtMu.Lock()
	defer x.fmtMu.Unlock()
	for i := range batch {
		r := &batch[i]
		x.scratch = appendLine(x.scratch[:0], r, rt.redactQuery)
		x.enqueue(entry{ts: r.Start.UnixNano(), queued: now, st: rt.streamOf(r)}, x.scratch)
	}
}

// enqueue copies line into e and buffers it, or drops it.
func (x *Exporter) enqueue(e entry, line []byte) {
	x.mu.Lock()
	if x.running && x.full(len(line)) && e.queued-x.settled > settleWhenFull {
		// The client may have finished a batch since; look at most every settleWhenFull,
		// so that a Loki outage does not make each dropped line read the client's counters.
		x.settle()
		x.settled = e.queued
	}
	switch {
	case !x.running:
		x.mu.Unlock()
		x.tel.droppedNotRunning.Add(1)
		return
	case x.full(len(line)):
		x.mu.Unlock()
		x.tel.droppedBufferFull.Add(1)
		return
	}
	e.line, e.size = string(line), len(line)
	x.pending.push(e)
	x.lines++
	x.bytes += len(line)
	wake := x.wake
	x.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

// settleWhenFull is how often, at most, a full buffer reads the client's counters.
const settleWhenFull = int64(10 * time.Millisecond)

// full reports whether a line of n bytes would overflow the buffer. x.mu is held.
func (x *Exporter) full(n int) bool {
	return x.lines+1 > x.cfg.BufferLines || x.bytes+n > x.cfg.BufferBytes
}

// Start creates the client and starts the sender. It returns at once; the sender runs until
// Shutdown, not until ctx ends. An exporter may be started again after Shutdown.
func (x *Exporter) Start(context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running {
		return ErrAlreadyStarted
	}
	ccfg, err := x.cfg.clientConfig()
	if err != nil {
		return err
	}
	c, err := newClient(ccfg, x.log)
	if err != nil {
		return fmt.Errorf("loki: client: %w", err)
	}
	x.running = true
	x.wake, x.stop, x.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go x.send(c, x.wake, x.stop, x.done)
	return nil
}

// Shutdown stops taking records, hands what is buffered to the client and stops it, which
// sends its last batch, retries included. When ctx ends first, lines not yet handed are
// dropped and counted, and Shutdown returns; the client's last batch still ends as sent or
// dropped, counted. It is safe to call twice, and without Start.
func (x *Exporter) Shutdown(ctx context.Context) error {
	x.mu.Lock()
	if x.running {
		x.running = false
		close(x.stop)
	}
	done := x.done
	x.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		x.mu.Lock()
		x.settle()
		x.mu.Unlock()
		return nil
	case <-ctx.Done():
		x.mu.Lock()
		n := x.pending.len()
		for x.pending.len() > 0 {
			e := x.pending.pop()
			x.lines--
			x.bytes -= e.size
		}
		x.mu.Unlock()
		x.tel.droppedShutdown.Add(uint64(n))
		return fmt.Errorf("loki: exporter shutdown: %w", ctx.Err())
	}
}
