package jaeger

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/tracing"
)

// TestTheRealJoinEnrichesSpansTheExporterHolds wires the exporter as the sink does: each
// trace batch goes to the exporter, then to the join, whose consumer is the exporter.
func TestTheRealJoinEnrichesSpansTheExporterHolds(t *testing.T) {
	f := startFake(t)
	e := newExporter(t, Config{Endpoint: f.addr})
	edge := &model.Edge{Routes: []model.Route{{Name: "shop/checkout", SLO: &model.SLO{Objectives: objectives}}}}
	j, err := join.New(join.Config{}, edge, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = j.Shutdown(context.Background()) }()

	start := time.Now()
	const sampledID, unsampledID = "11111111-2222-9333-8444-555555555555", "66666666-7777-4888-8999-aaaaaaaaaaaa"
	b := spans(0, 1, false)
	raw := b.Traces.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	raw.Attributes().PutStr(tracing.AttrRequestID, sampledID)
	trace, span := ids(0)
	b.Spans = []tracing.Span{{TraceID: trace, SpanID: span, RequestID: sampledID, Sampled: true,
		Start: start, End: start.Add(time.Second), Raw: raw}}
	e.ConsumeSpans(b)
	j.ConsumeSpans(b)

	unsampledTrace, unsampledSpan := ids(1)
	records := []als.Record{{
		RequestID: []byte(sampledID), RouteName: []byte("shop/checkout"), Status: 200,
		Start: start, Duration: time.Second,
	}, {
		RequestID: []byte(unsampledID), RouteName: []byte("shop/checkout"), Status: 503,
		Start: start, Duration: 10 * time.Millisecond,
	}}
	records[0].SetTrace(trace, span, true)
	records[1].SetTrace(unsampledTrace, unsampledSpan, false)
	j.ConsumeRecords(records)

	eventually(t, 5*time.Second, "two spans exported", func() bool { return len(f.received()) == 2 })
	got := map[[16]byte]ptrace.Span{}
	for _, s := range f.received() {
		got[s.TraceID()] = s
	}
	wantAttr := func(s ptrace.Span, key, want string) {
		t.Helper()
		got := ""
		if v, ok := s.Attributes().Get(key); ok {
			got = v.AsString()
		}
		if got != want {
			t.Errorf("span %s: %s = %q, want %q", s.SpanID(), key, got, want)
		}
	}
	sampled, synth := got[trace], got[unsampledTrace]
	wantAttr(sampled, AttrVerdict, VerdictBad)
	wantAttr(sampled, AttrBroken, "latency")
	wantAttr(sampled, AttrSynthesized, "")
	wantAttr(synth, AttrSynthesized, "true")
	wantAttr(synth, AttrBroken, "availability")
	wantAttr(synth, tracing.AttrRequestID, unsampledID)
	if synth.SpanID() != unsampledSpan {
		t.Errorf("synthesized span ID %s, want the traceparent's", synth.SpanID())
	}
}
