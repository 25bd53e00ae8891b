package join

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/tracing"
)

// step acts on a harness; a case's steps run in order, then its items are compared.
type step func(h *harness)

func logs(rs ...als.Record) step         { return func(h *harness) { h.log(rs...) } }
func spans(ss ...tracing.Span) step      { return func(h *harness) { h.spans(ss...) } }
func after(d time.Duration) step         { return func(h *harness) { h.clock.Advance(d); h.j.expireNow() } }
func pending(log, span int) step         { return func(h *harness) { h.checkPending(log, span) } }
func rec(name string, ms int) als.Record { return record(name, time.Duration(ms)*time.Millisecond) }

func (h *harness) checkPending(log, span int) {
	h.t.Helper()
	if got := h.j.Stats().Pending; got != [numSides]int{log, span} {
		h.t.Errorf("pending (log, span) = %v, want (%d, %d)", got, log, span)
	}
}

func unsampled(name string) als.Record {
	r := rec(name, 1)
	r.RequestID, r.Sampled = []byte(uuid(name, false)), false
	return r
}

func noTraceparent(r als.Record) als.Record {
	r.HasTrace, r.Sampled = false, false // Trace gives no IDs without HasTrace
	return r
}

func withID(r als.Record, id string) als.Record { r.RequestID = []byte(id); return r }

func spanWithID(id string) tracing.Span { s := span("x"); s.RequestID = id; return s }

func TestTheJoin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		steps []step
		want  []string
	}{
		{name: "a record then its span are emitted together",
			steps: []step{logs(rec("a", 1)), pending(1, 0), spans(span("a")), pending(0, 0)},
			want:  []string{"matched log:a(1ms) span:a"}},
		{name: "a span then its record are emitted together",
			steps: []step{spans(span("a")), pending(0, 1), logs(rec("a", 1)), pending(0, 0)},
			want:  []string{"matched log:a(1ms) span:a"}},
		{name: "a record whose span never comes goes alone once the window has passed",
			steps: []step{logs(rec("a", 1)), after(29 * time.Second), pending(1, 0), after(2 * time.Second), pending(0, 0)},
			want:  []string{"expired log:a(1ms)"}},
		{name: "a span whose record never comes goes alone once the window has passed",
			steps: []step{spans(span("a")), after(30 * time.Second), pending(0, 0), spans(span("b"))},
			want:  []string{"expired span:a"}},
		{name: "an entry lives at least its window and at most a second more",
			cfg: Config{Window: 5 * time.Second},
			steps: []step{after(100 * time.Millisecond), logs(rec("a", 1)), after(5800 * time.Millisecond), pending(1, 0),
				after(200 * time.Millisecond), pending(0, 0)},
			want: []string{"expired log:a(1ms)"}},
		{name: "expiry goes oldest first around a match in the middle",
			steps: []step{logs(rec("a", 1), rec("b", 2)), after(time.Second), logs(rec("c", 3)), spans(span("b")),
				after(30 * time.Second), pending(0, 0)},
			want: []string{"matched log:b(2ms) span:b", "expired log:a(1ms)", "expired log:c(3ms)"}},
		{name: "a record of a request Envoy did not sample goes alone at once",
			steps: []step{logs(unsampled("a")), pending(0, 0)},
			want:  []string{"not_sampled log:a(1ms)"}},
		{name: "without a traceparent, a record waits if its request ID says traced and goes if not",
			steps: []step{logs(noTraceparent(rec("a", 1)), noTraceparent(unsampled("b"))), pending(1, 0)},
			want:  []string{"not_sampled log:b(1ms)"}},
		{name: "a record without a request ID goes alone at once",
			steps: []step{logs(withID(rec("a", 1), "")), pending(0, 0)},
			want:  []string{"no_request_id log:-(1ms)"}},
		{name: "a span without a request ID goes alone at once",
			steps: []step{spans(spanWithID("")), pending(0, 0)},
			want:  []string{"no_request_id span:-"}},
		{name: "when the table is full the oldest entry goes alone, evicted",
			cfg: Config{MaxPending: 2},
			steps: []step{logs(rec("a", 1)), spans(span("b")), logs(rec("c", 3)), pending(1, 1),
				logs(rec("b", 2))},
			want: []string{"evicted log:a(1ms)", "matched log:b(2ms) span:b"}},
		{name: "a second record with a request ID sends the first alone, and the second waits",
			steps: []step{logs(rec("a", 1)), logs(rec("a", 2)), pending(1, 0), spans(span("a"))},
			want:  []string{"duplicate log:a(1ms)", "matched log:a(2ms) span:a"}},
		{name: "a second span with a request ID sends the first alone",
			steps: []step{spans(span("a"), span("a")), pending(0, 1)},
			want:  []string{"duplicate span:a"}},
		{name: "request IDs that are not UUIDs join by their hash",
			steps: []step{logs(withID(rec("a", 1), "req-42")), spans(spanWithID("req-42")), spans(spanWithID("req-43"))},
			want:  []string{"matched log:req-42(1ms) span:req-42"}},
		{name: "a UUID joins whatever the case of its hex digits",
			steps: []step{logs(withID(rec("a", 1), strings.ToUpper(uuid("a", true)))), spans(span("a"))},
			want:  []string{"matched log:a(1ms) span:a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg, checkoutEdge())
			for _, s := range tc.steps {
				s(h)
			}
			got := h.summaries(h.out.waitFor(t, len(tc.want)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("emitted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPairCarriesTheRecordAndTheSpanWhole(t *testing.T) {
	h := newHarness(t, Config{}, checkoutEdge())
	r := rec("a", 120)
	r.Status, r.BytesReceived, r.BytesSent, r.Flags = 503, 10, 20, als.FlagUpstreamConnectionFailure
	h.log(r)
	h.spans(span("a"))
	got := h.out.waitFor(t, 1)[0]
	key, _ := h.j.keys.ofBytes(r.RequestID)
	traceID, spanID := r.Trace()
	want := Joined{
		Reason: ReasonMatched, HasRecord: true, HasSpan: true,
		Record: Record{
			RequestID: key, Route: "shop/checkout", TraceID: traceID, SpanID: spanID,
			Sampled: true, HasTrace: true, Start: testEpoch, Duration: 120 * time.Millisecond,
			Status: 503, Flags: r.Flags, BytesReceived: 10, BytesSent: 20,
		},
		Span: Span{
			RequestID: key, TraceID: span("a").TraceID, SpanID: span("a").SpanID,
			ParentSpanID: span("a").ParentSpanID, Start: testEpoch, End: testEpoch.Add(time.Millisecond),
		},
		Verdict: Verdict{Objectives: checkoutEdge().Routes[0].SLO.Objectives, Broken: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pair (-want +got):\n%s", diff)
	}
}

func TestTheVerdictNamesTheObjectivesARequestBroke(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status uint32
		flags  als.ResponseFlags
		d      time.Duration
		route  string
		want   []string
	}{
		{"a fast success breaks nothing", 200, 0, 100 * time.Millisecond, "shop/checkout", nil},
		{"a 5xx breaks availability", 503, 0, 100 * time.Millisecond, "shop/checkout", []string{"availability"}},
		{"a connect failure without a status breaks availability", 0, als.FlagUpstreamConnectionFailure, time.Millisecond, "shop/checkout", []string{"availability"}},
		{"a slow success breaks latency", 200, 0, 301 * time.Millisecond, "shop/checkout", []string{"latency"}},
		{"a slow 5xx breaks both", 500, 0, time.Second, "shop/checkout", []string{"availability", "latency"}},
		{"a route the model does not have is unmatched and has no objectives", 500, 0, time.Second, "shop/other", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{}, checkoutEdge())
			r := unsampled("a")
			r.Status, r.Flags, r.Duration, r.RouteName = tc.status, tc.flags, tc.d, []byte(tc.route)
			h.log(r)
			got := h.out.waitFor(t, 1)[0]
			if diff := cmp.Diff(tc.want, got.Verdict.BrokenNames()); diff != "" {
				t.Errorf("broken objectives (-want +got):\n%s", diff)
			}
			if got.Verdict.Bad() != (len(tc.want) > 0) {
				t.Errorf("Bad() is %v", got.Verdict.Bad())
			}
		})
	}
}

func TestANewModelChangesTheObjectivesRecordsAreJudgedBy(t *testing.T) {
	h := newHarness(t, Config{}, nil)
	slow := unsampled("a")
	slow.Duration = time.Second
	h.log(slow)
	h.j.SetModel(checkoutEdge())
	h.log(slow)
	items := h.out.waitFor(t, 2)
	if items[0].Record.Route != "unmatched" || items[0].Verdict.Bad() {
		t.Errorf("without a model: route %q, bad %v; want unmatched, good", items[0].Record.Route, items[0].Verdict.Bad())
	}
	if items[1].Record.Route != "shop/checkout" || !items[1].Verdict.Bad() {
		t.Errorf("with the model: route %q, bad %v; want shop/checkout, bad", items[1].Record.Route, items[1].Verdict.Bad())
	}
}

func TestShutdownEmitsEveryPendingEntryAloneAndDeliversEverything(t *testing.T) {
	h := newHarness(t, Config{}, checkoutEdge())
	h.log(rec("a", 1), rec("b", 2))
	h.spans(span("c"))
	if err := h.j.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"shutdown log:a(1ms)", "shutdown log:b(2ms)", "shutdown span:c"}
	if diff := cmp.Diff(want, h.summaries(h.out.snapshot())); diff != "" {
		t.Errorf("delivered by the time Shutdown returned (-want +got):\n%s", diff)
	}
	if p := h.j.Stats().Pending; p != [numSides]int{} {
		t.Errorf("pending after Shutdown: %v", p)
	}
}

func TestInputWhileStoppedIsRefusedAndCountedAndAJoinStartsAgain(t *testing.T) {
	h := newHarness(t, Config{}, checkoutEdge())
	ctx := context.Background()
	for range 2 {
		if err := h.j.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h.log(rec("a", 1))
	h.spans(span("a"))
	if s := h.j.Stats(); s.Refused != [numSides]uint64{1, 1} || s.Received != [numSides]uint64{} {
		t.Errorf("refused %v, received %v; want 1 each refused, none received", s.Refused, s.Received)
	}
	if err := h.j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.j.Start(ctx); err != ErrAlreadyStarted {
		t.Errorf("a second Start: %v", err)
	}
	h.log(rec("a", 1))
	h.spans(span("a"))
	if got := h.summaries(h.out.waitFor(t, 1)); got[0] != "matched log:a(1ms) span:a" {
		t.Errorf("after a restart: %v", got)
	}
}

func TestTheTickerExpiresEntriesWhenNoTrafficComes(t *testing.T) {
	h := newHarness(t, Config{Tick: time.Millisecond}, checkoutEdge())
	h.log(rec("a", 1))
	h.clock.Advance(31 * time.Second)
	if got := h.summaries(h.out.waitFor(t, 1)); got[0] != "expired log:a(1ms)" {
		t.Errorf("emitted %v", got)
	}
}

func TestAConfigOutOfRangeIsRefusedNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{Window: time.Millisecond}, "Window"},
		{Config{Window: 2 * time.Hour}, "Window"},
		{Config{MaxPending: -1}, "MaxPending"},
		{Config{Tick: time.Microsecond}, "Tick"},
		{Config{QueueItems: -1}, "QueueItems"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v, want one naming %s", tc.cfg, err, tc.field)
		}
	}
	if _, err := New(Config{}, nil, nil, nil); err == nil {
		t.Error("a join without a consumer was made")
	}
}

// Without an exporter the sink's join emits to Discard: it counts as it would, makes no
// items (so none is dropped for want of room) and stops without waiting for a consumer.
func TestAJoinThatEmitsToDiscardCountsEverythingAndMakesNoItems(t *testing.T) {
	clock := &fakeClock{t: testEpoch}
	j, err := New(Config{MaxPending: 16, QueueItems: 1}, checkoutEdge(), Discard, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, j: j, clock: clock, names: map[RequestID]string{}}
	h.log(rec("a", 1), rec("b", 2), rec("c", 3), unsampled("d"))
	h.spans(span("a"), span("e"))
	if err := j.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := j.Stats()
	var want Stats
	want.Received = [numSides]uint64{4, 2}
	want.Matched = 1
	want.Unmatched[SideLog][ReasonNotSampled] = 1
	want.Unmatched[SideLog][ReasonShutdown] = 2
	want.Unmatched[SideSpan][ReasonShutdown] = 1
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if len(j.ring) != 0 {
		t.Errorf("a ring of %d items, for nobody", len(j.ring))
	}
}

// The receiver resolves each record's route in the model in force (als.Record.RouteIn);
// the join takes the route by that position, and by name from a record resolved in
// another model.
func TestARecordsRouteIsTheOneItNamesHoweverItWasResolved(t *testing.T) {
	m := checkoutEdge()
	m.Routes = append([]model.Route{{Name: "shop/cart"}}, m.Routes...)
	other := &model.Edge{Routes: []model.Route{{Name: "shop/checkout"}, {Name: "shop/cart"}}}
	for _, tc := range []struct {
		name  string
		in    *model.Edge
		route int32
	}{
		{"resolved in the join's model", m, 2},
		{"resolved in another model", other, 1},
		{"not resolved", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{}, m)
			r := unsampled("a")
			r.RouteName, r.Duration, r.Model, r.Route = []byte("shop/checkout"), time.Second, tc.in, tc.route
			h.log(r)
			got := h.out.waitFor(t, 1)[0]
			if got.Record.Route != "shop/checkout" || !got.Verdict.Bad() {
				t.Errorf("route %q, bad %v; want shop/checkout, bad (slower than its 300 ms)", got.Record.Route, got.Verdict.Bad())
			}
		})
	}
}
