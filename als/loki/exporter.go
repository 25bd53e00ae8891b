// Package loki exports access-log records to Grafana Loki as JSON lines, over Loki's HTTP
// push API (/loki/api/v1/push).
//
// Each HTTP record becomes one line: method, path (query string redacted unless the model
// says otherwise), status, Envoy's response flags, duration, bytes, upstream, request ID,
// trace and span ID, node. Its stream's labels are low-cardinality only: job="edgetel",
// node_group, route (from the model, "unmatched" otherwise, never from the request) and
// status_class. The line's timestamp is the request's start.
//
// The exporter is an als.Consumer that never blocks its caller: ConsumeRecords formats each
// record into a reused buffer, copies the line once and enqueues it in a bounded buffer, or
// drops it, counted, when the buffer is full. One goroutine sends batches (by size or
// wait), retrying with backoff on 429, 5xx and connection errors; a batch that still fails
// is dropped and counted. Push bodies are gzipped unless Config.Uncompressed is set. Every
// line is either sent (edgetel_loki_lines_sent_total) or counted in
// edgetel_loki_lines_dropped_total; see docs/metrics.md.
//
// github.com/grafana/loki-client-go is not used: its latest version
// (v0.0.0-20240913122146-e119d400c3a5) does not compile against the
// github.com/prometheus/prometheus v0.308.1 this module requires (it ranges over and
// indexes labels.Labels, no longer a slice), and downgrading that shared dependency, or
// building everything with -tags slicelabels, is not on.
package loki

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// ErrAlreadyStarted is returned by Start on an exporter that is running.
var ErrAlreadyStarted = errors.New("loki: exporter already started")

// entry is one line waiting for Loki. line is owned by the entry.
type entry struct {
	ts     int64 // Unix nanoseconds of the request's start
	queued int64 // Unix nanoseconds of when the sink buffered it: the export lag's start
	st     *stream
	line   []byte
}

// Exporter sends access-log records to Loki. Register it, a prometheus.Collector, for its
// self-telemetry (edgetel_loki_*).
type Exporter struct {
	cfg     Config
	pushURL string
	client  *http.Client
	log     *slog.Logger
	tel     *telemetry
	routing atomic.Pointer[routing]

	fmtMu   sync.Mutex // serializes formatting into scratch (Workers may be > 1)
	scratch []byte

	mu       sync.Mutex
	pending  ring // not yet in a batch
	lines    int  // pending plus in flight: what BufferLines bounds
	bytes    int  // likewise for BufferBytes
	running  bool
	wake     chan struct{} // cap 1: a full batch is pending
	stop     chan struct{} // closed by Shutdown: drain, then return
	cancel   context.CancelFunc
	done     chan struct{} // closed when the sender has returned
	linesBuf atomic.Int64  // lines, for the gauge without the lock
	bytesBuf atomic.Int64
}

var _ als.Consumer = (*Exporter)(nil)

// New returns an exporter for the routes of e (nil: none, every record unmatched). Its
// logger may be nil; it logs failed batches, at most one line per batch.
func New(cfg Config, e *model.Edge, logger *slog.Logger) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	x := &Exporter{
		cfg:     cfg,
		pushURL: trimSlash(cfg.URL) + "/loki/api/v1/push",
		client:  &http.Client{Timeout: cfg.Timeout},
		log:     logger,
	}
	x.tel = newTelemetry(&x.linesBuf, &x.bytesBuf)
	x.pending.max = cfg.BufferLines
	x.SetModel(e)
	return x, nil
}

// SetModel takes a new model's routes and redaction into use for the records that follow.
func (x *Exporter) SetModel(e *model.Edge) { x.routing.Store(newRouting(e, x.cfg.NodeGroup)) }

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
	switch {
	case !x.running:
		x.mu.Unlock()
		x.tel.droppedNotRunning.Inc()
		return
	case x.lines+1 > x.cfg.BufferLines || x.bytes+len(line) > x.cfg.BufferBytes:
		x.mu.Unlock()
		x.tel.droppedBufferFull.Inc()
		return
	}
	e.line = append([]byte(nil), line...)
	x.pending.push(e)
	x.lines++
	x.bytes += len(line)
	x.linesBuf.Store(int64(x.lines))
	x.bytesBuf.Store(int64(x.bytes))
	full, wake := x.pending.len() >= x.cfg.BatchLines, x.wake
	x.mu.Unlock()
	if full {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// Start starts the sender. It returns at once; the sender runs until Shutdown, not until
// ctx ends. An exporter may be started again after Shutdown.
func (x *Exporter) Start(context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running {
		return ErrAlreadyStarted
	}
	ctx, cancel := context.WithCancel(context.Background())
	x.running, x.cancel = true, cancel
	x.wake, x.stop, x.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go x.send(ctx, x.wake, x.stop, x.done)
	return nil
}

// Shutdown stops taking records and sends what is buffered, retries included, until the
// buffer is empty or ctx ends; lines still buffered then are dropped and counted. It is
// safe to call twice, and without Start.
func (x *Exporter) Shutdown(ctx context.Context) error {
	x.mu.Lock()
	if x.running {
		x.running = false
		close(x.stop)
	}
	done, cancel := x.done, x.cancel
	x.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		cancel()
		return nil
	case <-ctx.Done():
		cancel()
		<-done
		return fmt.Errorf("loki: exporter shutdown: %w", ctx.Err())
	}
}

// take removes the next batch from the buffer: up to BatchLines lines and BatchBytes
// bytes (at least one line). Its lines stay counted against the buffer until release.
func (x *Exporter) take(into []entry) []entry {
	x.mu.Lock()
	defer x.mu.Unlock()
	into = into[:0]
	size := 0
	for x.pending.len() > 0 && len(into) < x.cfg.BatchLines {
		l := len(x.pending.peek(0).line)
		if len(into) > 0 && size+l > x.cfg.BatchBytes {
			break
		}
		size += l
		into = append(into, x.pending.pop())
	}
	return into
}

// release frees a batch's lines from the buffer, sent or dropped.
func (x *Exporter) release(batch []entry) {
	size := 0
	for i := range batch {
		size += len(batch[i].line)
	}
	x.mu.Lock()
	x.lines -= len(batch)
	x.bytes -= size
	x.linesBuf.Store(int64(x.lines))
	x.bytesBuf.Store(int64(x.bytes))
	x.mu.Unlock()
}

func (x *Exporter) pendingLines() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.pending.len()
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
