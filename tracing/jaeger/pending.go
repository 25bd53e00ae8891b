package jaeger

import (
	"container/list"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// spanKey identifies a span: its trace ID and span ID.
type spanKey struct {
	trace [16]byte
	span  [8]byte
}

// item is one span on its way to Jaeger: an owned copy and where it came from.
type item struct {
	span        ptrace.Span
	from        *origin
	synthesized bool
	queued      time.Time // when it entered the export queue: the export lag's start
}

// held is a span waiting for the join.
type held struct {
	key     spanKey
	it      item
	expires time.Time
}

// pending holds spans waiting for the join, oldest first, bounded. Not safe for
// concurrent use: the Exporter guards it.
type pending struct {
	max   int
	byKey map[spanKey]*list.Element // of *held
	order *list.List                // of *held, oldest first
}

func newPending(maxSpans int) *pending {
	return &pending{max: maxSpans, byKey: make(map[spanKey]*list.Element), order: list.New()}
}

func (p *pending) len() int { return p.order.Len() }

// put makes it wait until expires. It returns what had to go to make room: a span with
// the same key (replaced), and the oldest when the buffer was full.
func (p *pending) put(k spanKey, it item, expires time.Time) (replaced, evicted *item) {
	if e, ok := p.byKey[k]; ok {
		h := p.remove(e)
		replaced = &h.it
	}
	if p.order.Len() >= p.max {
		h := p.remove(p.order.Front())
		evicted = &h.it
	}
	p.byKey[k] = p.order.PushBack(&held{key: k, it: it, expires: expires})
	return replaced, evicted
}

// take removes and returns the span with key k, if it waits.
func (p *pending) take(k spanKey) (item, bool) {
	e, ok := p.byKey[k]
	if !ok {
		return item{}, false
	}
	return p.remove(e).it, true
}

// expired removes and returns, oldest first, the spans whose wait ended by now; all of
// them when now is the zero time.
func (p *pending) expired(now time.Time, out []item) []item {
	for e := p.order.Front(); e != nil; e = p.order.Front() {
		h := e.Value.(*held)
		if !now.IsZero() && h.expires.After(now) {
			break
		}
		out = append(out, p.remove(e).it)
	}
	return out
}

func (p *pending) remove(e *list.Element) *held {
	h := p.order.Remove(e).(*held)
	delete(p.byKey, h.key)
	return h
}
