package join

import (
	"encoding/binary"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/tracing"
)

// addRecord takes one record; the caller holds mu.
func (j *Join) addRecord(r *als.Record, now int64) {
	j.stats.Received[SideLog]++
	if j.countOnly && len(r.RequestID) > 0 && r.HasTrace && !r.Sampled {
		// What the rest concludes (see spanExpected), without making an entry nobody
		// reads: most records are of requests Envoy did not sample.
		j.stats.Unmatched[SideLog][ReasonNotSampled]++
		return
	}
	e := entry{
		start: unixNano(r.Start), end: int64(r.Duration),
		x: r.BytesReceived, y: r.BytesSent, flags: uint64(r.Flags),
		route: j.routes.of(r),
		meta:  meta(0).withStatus(r.Status),
	}
	if !j.countOnly {
		// Only an item carries the IDs: a join that counts alone never decodes them.
		e.traceID, e.spanID = r.Trace()
	}
	if r.Sampled {
		e.meta |= metaSampled
	}
	if r.HasTrace {
		e.meta |= metaHasTrace
	}
	if len(r.RequestID) == 0 {
		j.emitAlone(&e, ReasonNoRequestID)
		return
	}
	var hashed bool
	if e.key, hashed = j.keys.ofBytes(r.RequestID); hashed {
		e.meta |= metaHashedID
	}
	if !spanExpected(&e) {
		j.emitAlone(&e, ReasonNotSampled)
		return
	}
	j.offer(&e, now)
}

// spanExpected reports whether Envoy exported a span for a record's request. Its tracer
// exports sampled spans only, and the traceparent it logged carries its span's sampled
// flag (see package tracing); without one, the trace reason Envoy packs into its UUID
// request IDs says. When neither tells, the record waits.
func spanExpected(e *entry) bool {
	switch {
	case e.meta&metaHasTrace != 0:
		return e.meta&metaSampled != 0
	case e.meta&metaHashedID == 0:
		return e.key.traceStatus() != traceNo
	}
	return true
}

// addSpan takes one span; the caller holds mu.
func (j *Join) addSpan(s *tracing.Span, now int64) {
	j.stats.Received[SideSpan]++
	e := entry{
		traceID: s.TraceID, spanID: s.SpanID,
		start: unixNano(s.Start), end: unixNano(s.End),
		x:    binary.BigEndian.Uint64(s.ParentSpanID[:]),
		meta: metaSpan,
	}
	if s.RequestID == "" {
		j.emitAlone(&e, ReasonNoRequestID)
		return
	}
	var hashed bool
	if e.key, hashed = j.keys.ofString(s.RequestID); hashed {
		e.meta |= metaHashedID
	}
	j.offer(&e, now)
}

// offer matches e with a pending partner, or makes it wait. A pending entry of the same
// side and request ID goes alone as a duplicate: the newer one waits, with a full window.
func (j *Join) offer(e *entry, now int64) {
	h := j.tbl.hash(&e.key)
	if idx, ok := j.tbl.find(&e.key, h); ok {
		p := &j.tbl.entries[idx]
		if p.meta.side() != e.meta.side() {
			j.stats.Matched++
			if it := j.item(ReasonMatched); it != nil {
				j.fill(it, p)
				j.fill(it, e)
			}
			j.tbl.remove(idx)
			return
		}
		j.emitAlone(p, ReasonDuplicate)
		j.tbl.remove(idx)
	}
	if j.tbl.full() {
		idx, _ := j.tbl.oldest()
		j.emitAlone(&j.tbl.entries[idx], ReasonEvicted)
		j.tbl.remove(idx)
	}
	e.expires = j.expiresAt(now)
	j.tbl.insert(e, h)
}

// emitAlone emits e without a partner and counts why.
func (j *Join) emitAlone(e *entry, why Reason) {
	side := e.meta.side()
	if why == ReasonEvicted {
		j.stats.Evicted[side]++
	} else {
		j.stats.Unmatched[side][why]++
	}
	if it := j.item(why); it != nil {
		j.fill(it, e)
	}
}

// fill copies e into it, as its record or its span.
func (j *Join) fill(it *Joined, e *entry) {
	if e.meta.side() == SideSpan {
		it.HasSpan = true
		it.Span = Span{
			RequestID: e.key, HashedID: e.meta&metaHashedID != 0,
			TraceID: e.traceID, SpanID: e.spanID,
			Start: fromUnixNano(e.start), End: fromUnixNano(e.end),
		}
		binary.BigEndian.PutUint64(it.Span.ParentSpanID[:], e.x)
		return
	}
	it.HasRecord = true
	it.Record = Record{
		RequestID: e.key, HashedID: e.meta&metaHashedID != 0,
		Route:   j.routes.name(e.route),
		TraceID: e.traceID, SpanID: e.spanID,
		Sampled: e.meta&metaSampled != 0, HasTrace: e.meta&metaHasTrace != 0,
		Start: fromUnixNano(e.start), Duration: time.Duration(e.end),
		Status: e.meta.status(), Flags: als.ResponseFlags(e.flags),
		BytesReceived: e.x, BytesSent: e.y,
	}
	it.Verdict = j.routes.verdict(e.route, it.Record.Status, it.Record.Flags, it.Record.Duration)
}

// unixNano and fromUnixNano map the zero time to 0 and back, so that a field Envoy did
// not send stays the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
