package join

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/tracing"
)

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sink is a Consumer that keeps copies of what it is given; gate, when not nil, holds
// each call until it is closed.
type sink struct {
	gate  chan struct{}
	mu    sync.Mutex
	items []Joined
}

func (s *sink) ConsumeJoined(batch []Joined) {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, batch...)
}

func (s *sink) snapshot() []Joined {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Joined(nil), s.items...)
}

// waitFor waits until the sink has n items and returns them.
func (s *sink) waitFor(t *testing.T, n int) []Joined {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		items := s.snapshot()
		if len(items) >= n {
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer got %d items, want %d", len(items), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// harness is a started join on a fake clock, with a sink, and names for request IDs.
type harness struct {
	t     *testing.T
	j     *Join
	clock *fakeClock
	out   *sink
	names map[RequestID]string
}

func newHarness(t *testing.T, cfg Config, m *model.Edge) *harness {
	t.Helper()
	h := &harness{t: t, clock: &fakeClock{t: testEpoch}, out: &sink{}, names: map[RequestID]string{}}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = 1024 // the default's 10 MB table is slow to make under the race detector
	}
	j, err := New(cfg, m, h.out, h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Shutdown(context.Background()) })
	h.j = j
	return h
}

// uuid returns a request ID as Envoy's UUID extension makes it: the version nibble says
// whether the request was traced.
func uuid(name string, traced bool) string {
	v := '4'
	if traced {
		v = '9'
	}
	var sum uint64
	for _, c := range name {
		sum = sum*131 + uint64(c)
	}
	return fmt.Sprintf("%08x-%04x-%c%03x-8%03x-%012x", sum&0xffffffff, sum>>32&0xffff, v,
		sum>>48&0xfff, sum>>20&0xfff, sum&0xffffffffffff)
}

// record is a sampled record of request name, with a traceparent.
func record(name string, d time.Duration) als.Record {
	r := als.Record{
		RequestID: []byte(uuid(name, true)), RouteName: []byte("shop/checkout"),
		Status: 200, Duration: d, Start: testEpoch,
	}
	r.SetTrace([16]byte{1, byte(len(name))}, [8]byte{2}, true)
	return r
}

func span(name string) tracing.Span {
	return tracing.Span{
		RequestID: uuid(name, true), TraceID: [16]byte{1, byte(len(name))}, SpanID: [8]byte{2},
		ParentSpanID: [8]byte{0, 0, 0, 0, 0, 0, 0, 9}, Start: testEpoch, End: testEpoch.Add(time.Millisecond),
		Sampled: true,
	}
}

// log gives the join a batch of records, naming their request IDs for summaries.
func (h *harness) log(rs ...als.Record) {
	for _, r := range rs {
		k, _ := h.j.keys.ofBytes(r.RequestID)
		h.names[k] = string(r.RequestID)
	}
	h.j.ConsumeRecords(rs)
}

func (h *harness) spans(ss ...tracing.Span) {
	for _, s := range ss {
		k, _ := h.j.keys.ofString(s.RequestID)
		h.names[k] = s.RequestID
	}
	h.j.ConsumeSpans(&tracing.Batch{Spans: ss})
}

// summary describes an item in a line: its reason, and the request IDs of its record and
// span with the record's duration, which tells duplicates apart.
func (h *harness) summary(it Joined) string {
	var parts []string
	parts = append(parts, it.Reason.String())
	if it.HasRecord {
		parts = append(parts, fmt.Sprintf("log:%s(%v)", h.short(it.Record.RequestID), it.Record.Duration))
	}
	if it.HasSpan {
		parts = append(parts, "span:"+h.short(it.Span.RequestID))
	}
	return strings.Join(parts, " ")
}

func (h *harness) short(id RequestID) string {
	if id == (RequestID{}) {
		return "-"
	}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		for _, traced := range []bool{true, false} {
			if k, _ := h.j.keys.ofString(uuid(n, traced)); k == id {
				return n
			}
		}
	}
	if raw, ok := h.names[id]; ok {
		return raw
	}
	return id.String()
}

func (h *harness) summaries(items []Joined) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = h.summary(it)
	}
	return out
}

// checkoutEdge is a model with one route with an availability and a latency objective.
func checkoutEdge() *model.Edge {
	return &model.Edge{Routes: []model.Route{{
		Name: "shop/checkout",
		SLO: &model.SLO{Window: 28 * 24 * time.Hour, Objectives: []model.Objective{
			{Name: "availability", Indicator: model.Availability, Target: 0.999},
			{Name: "latency", Indicator: model.Latency, Target: 0.99, Threshold: 300 * time.Millisecond},
		}},
	}}}
}
