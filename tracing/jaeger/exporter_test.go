package jaeger

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/tracing"
)

func newExporter(t *testing.T, cfg Config) *Exporter {
	t.Helper()
	cfg.BatchTimeout = max(cfg.BatchTimeout, 5*time.Millisecond)
	cfg.InitialBackoff = max(cfg.InitialBackoff, 10*time.Millisecond)
	cfg.MaxBackoff = max(cfg.MaxBackoff, 50*time.Millisecond)
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e
}

// ids returns span i's trace and span ID.
func ids(i int) (trace [16]byte, span [8]byte) {
	binary.BigEndian.PutUint64(trace[8:], uint64(i)+1)
	trace[0] = 0xab
	binary.BigEndian.PutUint64(span[:], uint64(i)+1)
	return trace, span
}

// spans returns a receiver batch of Envoy-like spans numbered from..to-1, under
// service.name envoy-edge; withRequestID says whether they carry guid:x-request-id.
func spans(from, to int, withRequestID bool) *tracing.Batch {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "envoy-edge")
	ss := rs.ScopeSpans().AppendEmpty().Spans()
	for i := from; i < to; i++ {
		s := ss.AppendEmpty()
		trace, span := ids(i)
		s.SetTraceID(trace)
		s.SetSpanID(span)
		s.SetName("ingress")
		if withRequestID {
			s.Attributes().PutStr(tracing.AttrRequestID, "req")
		}
	}
	return &tracing.Batch{Traces: td}
}

// joinedSpan is what the join emits for span i: with a record when rec is not nil.
func joinedSpan(i int, rec *join.Record, v join.Verdict) join.Joined {
	trace, span := ids(i)
	j := join.Joined{Reason: join.ReasonExpired, HasSpan: true, Span: join.Span{TraceID: trace, SpanID: span}}
	if rec != nil {
		j.Reason, j.HasRecord, j.Record, j.Verdict = join.ReasonMatched, true, *rec, v
	}
	return j
}

func value(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

// settled reports whether every span taken is accounted for as exported or dropped.
func settled(e *Exporter) bool {
	in := value(e.tel.received) + value(e.tel.synthesized)
	out := value(e.tel.exportedForwarded) + value(e.tel.exportedSynthesized)
	for _, c := range e.tel.dropped {
		out += value(c)
	}
	return in == out
}

func TestAMatchedSpanReachesJaegerWithItsRecordsAttributes(t *testing.T) {
	f := startFake(t)
	e := newExporter(t, Config{Endpoint: f.addr})
	e.ConsumeSpans(spans(0, 2, true))
	rec := join.Record{Route: "shop/checkout", Status: 200, Duration: time.Second}
	e.ConsumeJoined([]join.Joined{joinedSpan(0, &rec, join.Verdict{Objectives: objectives, Broken: 0b10})})
	eventually(t, 5*time.Second, "one span exported", func() bool { return len(f.received()) == 1 })
	got := f.received()[0].Attributes().AsRaw()
	want := map[string]any{tracing.AttrRequestID: "req", "service": "envoy-edge",
		AttrRoute: "shop/checkout", AttrStatusCode: int64(200), AttrResponseFlags: "-",
		AttrVerdict: "bad", AttrBroken: "latency"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if n := value(e.tel.pending); n != 1 {
		t.Errorf("%v spans pending, want the unmatched one", n)
	}
	if v := value(e.tel.enriched); v != 1 {
		t.Errorf("enriched %v, want 1", v)
	}
}

func TestASpanTheJoinEmitsAloneIsForwardedAsItCame(t *testing.T) {
	f := startFake(t)
	e := newExporter(t, Config{Endpoint: f.addr})
	e.ConsumeSpans(spans(0, 1, true))
	e.ConsumeJoined([]join.Joined{joinedSpan(0, nil, join.Verdict{})})
	eventually(t, 5*time.Second, "one span exported", func() bool { return len(f.received()) == 1 })
	if _, ok := f.received()[0].Attributes().Get(AttrRoute); ok {
		t.Error("a span without a record got a route")
	}
	eventually(t, time.Second, "counted as forwarded", func() bool { return value(e.tel.exportedForwarded) == 1 })
}

func TestABadRecordWithoutASpanGetsASynthesizedSpanUnderEnvoysService(t *testing.T) {
	f := startFake(t)
	e := newExporter(t, Config{Endpoint: f.addr})
	trace, span := ids(7)
	good := join.Joined{Reason: join.ReasonNotSampled, HasRecord: true,
		Record: join.Record{Route: "shop/cart", Status: 200}, Verdict: join.Verdict{Objectives: objectives}}
	bad := join.Joined{Reason: join.ReasonNotSampled, HasRecord: true,
		Record:  join.Record{Route: "shop/checkout", Status: 503, TraceID: trace, SpanID: span, HasTrace: true},
		Verdict: join.Verdict{Objectives: objectives, Broken: 1}}
	e.ConsumeJoined([]join.Joined{good, bad})
	eventually(t, 5*time.Second, "the synthesized span exported", func() bool {
		return value(e.tel.exportedSynthesized) == 1
	})
	got := f.received()
	if len(got) != 1 {
		t.Fatalf("%d spans exported, want only the bad request's", len(got))
	}
	if got[0].TraceID() != trace || got[0].SpanID() != span {
		t.Errorf("trace %s span %s, want the traceparent's", got[0].TraceID(), got[0].SpanID())
	}
	if svc, _ := got[0].Attributes().Get("service"); svc.Str() != ServiceName {
		t.Errorf("service.name %q, want %q", svc.Str(), ServiceName)
	}
}

func TestASpanWithoutARequestIDIsExportedAtOnce(t *testing.T) {
	f := startFake(t)
	e := newExporter(t, Config{Endpoint: f.addr})
	e.ConsumeSpans(spans(0, 3, false))
	eventually(t, 5*time.Second, "three spans exported", func() bool { return len(f.received()) == 3 })
	if n := value(e.tel.pending); n != 0 {
		t.Errorf("%v pending, want none", n)
	}
}

func TestASpanTheJoinNeverEmitsGoesAsItCameAfterTheWindow(t *testing.T) {
	f := startFake(t)
	e := newExporter(t, Config{Endpoint: f.addr, Window: 50 * time.Millisecond})
	e.ConsumeSpans(spans(0, 2, true))
	eventually(t, 5*time.Second, "both spans exported", func() bool { return len(f.received()) == 2 })
	if v := value(e.tel.unjoined[unjoinedExpired]); v != 2 {
		t.Errorf("unjoined expired %v, want 2", v)
	}
}

func TestAFullPendingBufferExportsItsOldestSpan(t *testing.T) {
	f := startFake(t)
	e := newExporter(t, Config{Endpoint: f.addr, MaxPending: 2})
	e.ConsumeSpans(spans(0, 3, true))
	eventually(t, 5*time.Second, "the oldest span exported", func() bool { return len(f.received()) == 1 })
	if want, _ := ids(0); f.received()[0].TraceID() != want {
		t.Errorf("exported %s, want the oldest", f.received()[0].TraceID())
	}
	if v := value(e.tel.unjoined[unjoinedEvicted]); v != 1 {
		t.Errorf("unjoined evicted %v, want 1", v)
	}
}

func TestRetryableFailuresAreRetriedAndEachCounted(t *testing.T) {
	f := startFake(t)
	f.setFail(func(call int) error {
		if call <= 2 {
			return status.Error(codes.Unavailable, "try later")
		}
		return nil
	})
	e := newExporter(t, Config{Endpoint: f.addr, BatchSpans: 4, BatchTimeout: time.Minute})
	e.ConsumeSpans(spans(0, 4, false))
	eventually(t, 5*time.Second, "four spans exported", func() bool { return value(e.tel.exportedForwarded) == 4 })
	if v := value(e.tel.failures); v != 2 {
		t.Errorf("export failures %v, want 2", v)
	}
}

func TestAPermanentErrorDropsTheBatchCounted(t *testing.T) {
	f := startFake(t)
	f.setFail(func(int) error { return status.Error(codes.InvalidArgument, "no") })
	e := newExporter(t, Config{Endpoint: f.addr, BatchSpans: 3, BatchTimeout: time.Minute})
	e.ConsumeSpans(spans(0, 3, false))
	eventually(t, 5*time.Second, "three spans dropped", func() bool { return value(e.tel.dropped[dropRejected]) == 3 })
	if v := value(e.tel.failures); v != 1 {
		t.Errorf("export failures %v, want 1: no retry of a permanent error", v)
	}
}

func TestRetriesEndAfterRetryMaxElapsed(t *testing.T) {
	f := startFake(t)
	f.setFail(func(int) error { return status.Error(codes.Unavailable, "down") })
	e := newExporter(t, Config{Endpoint: f.addr, RetryMaxElapsed: 100 * time.Millisecond})
	e.ConsumeSpans(spans(0, 2, false))
	eventually(t, 5*time.Second, "two spans dropped", func() bool {
		return value(e.tel.dropped[dropRetriesExhausted]) == 2
	})
}

func TestWhileJaegerIsDownTheQueueFillsThenDropsAndEveryLossIsCounted(t *testing.T) {
	f := startFake(t)
	f.stop()
	e := newExporter(t, Config{Endpoint: f.addr, QueueSpans: 10, BatchSpans: 5, RetryMaxElapsed: time.Minute})
	const n = 40
	for i := 0; i < n; i += 4 {
		e.ConsumeSpans(spans(i, i+4, false))
		time.Sleep(5 * time.Millisecond) // let the sender take a batch into its retries
	}
	eventually(t, 5*time.Second, "a batch in retry", func() bool { return value(e.tel.failures) > 0 })
	if q := value(e.tel.queue); q == 0 || q > 10 {
		t.Errorf("%v spans queued while Jaeger is down, want some, at most the queue's 10", q)
	}
	f.start()
	eventually(t, 10*time.Second, "every span exported or dropped", func() bool { return settled(e) })
	dropped := value(e.tel.dropped[dropQueueFull])
	if got := len(f.received()); float64(got)+dropped != n || got == 0 || dropped == 0 {
		t.Errorf("%d received and %v dropped of %d sent: want some of each, adding up", got, dropped, n)
	}
}

func TestShutdownSendsWhatIsQueuedAndWhatWaitsForTheJoin(t *testing.T) {
	f := startFake(t)
	e, err := New(Config{Endpoint: f.addr, BatchTimeout: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.ConsumeSpans(spans(0, 3, false))
	e.ConsumeSpans(spans(3, 5, true))
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(f.received()); got != 5 {
		t.Errorf("%d spans exported by Shutdown, want 5", got)
	}
	if v := value(e.tel.unjoined[unjoinedShutdown]); v != 2 {
		t.Errorf("unjoined shutdown %v, want 2", v)
	}
}

func TestAShutdownWhoseContextEndsCountsWhatIsLeftAsDropped(t *testing.T) {
	f := startFake(t)
	f.stop()
	e, err := New(Config{Endpoint: f.addr, BatchSpans: 2, InitialBackoff: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.ConsumeSpans(spans(0, 6, false))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := e.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want the context's deadline", err)
	}
	if v := value(e.tel.dropped[dropShutdown]); v != 6 {
		t.Errorf("dropped at shutdown %v, want 6", v)
	}
}

func TestSpansGivenToAStoppedExporterAreCountedAsDropped(t *testing.T) {
	e, err := New(Config{Endpoint: "127.0.0.1:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.ConsumeSpans(spans(0, 2, true))
	e.ConsumeJoined([]join.Joined{{HasRecord: true, Verdict: join.Verdict{Objectives: objectives, Broken: 1}}})
	if v := value(e.tel.dropped[dropNotRunning]); v != 3 {
		t.Errorf("dropped not running %v, want 3", v)
	}
	if !settled(e) {
		t.Error("received and synthesized do not equal exported and dropped")
	}
}

func TestShutdownIsSafeTwiceAndWithoutStartAndAnExporterStartsAgain(t *testing.T) {
	f := startFake(t)
	e, err := New(Config{Endpoint: f.addr, BatchTimeout: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown without Start: %v", err)
	}
	for round := 1; round <= 2; round++ {
		if err := e.Start(ctx); err != nil {
			t.Fatalf("round %d: Start: %v", round, err)
		}
		if err := e.Start(ctx); !errors.Is(err, ErrAlreadyStarted) {
			t.Errorf("round %d: second Start: %v, want ErrAlreadyStarted", round, err)
		}
		e.ConsumeSpans(spans(round*10, round*10+1, false))
		for range 2 {
			if err := e.Shutdown(ctx); err != nil {
				t.Fatalf("round %d: Shutdown: %v", round, err)
			}
		}
		if got := len(f.received()); got != round {
			t.Errorf("round %d: %d spans exported in all, want %d", round, got, round)
		}
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"an endpoint without a port is refused", Config{Endpoint: "jaeger"}},
		{"a negative queue is refused", Config{QueueSpans: -1}},
		{"a negative window is refused", Config{Window: -time.Second}},
		{"an initial backoff over the maximum is refused", Config{InitialBackoff: time.Minute, MaxBackoff: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Validate: %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := New(Config{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New without an endpoint: %v, want ErrInvalidConfig", err)
	}
}
