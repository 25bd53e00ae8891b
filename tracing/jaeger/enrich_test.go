package jaeger

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/model"
)

var objectives = []model.Objective{
	{Name: "availability", Indicator: model.Availability, Target: 0.999},
	{Name: "latency", Indicator: model.Latency, Target: 0.99, Threshold: 300 * time.Millisecond},
}

func flags(t *testing.T, codes ...string) als.ResponseFlags {
	t.Helper()
	var f als.ResponseFlags
	for _, c := range codes {
		b, ok := als.FlagByCode(c)
		if !ok {
			t.Fatalf("no flag %q", c)
		}
		f |= b
	}
	return f
}

func TestEnrichAddsWhatTheJoinKnows(t *testing.T) {
	for _, tc := range []struct {
		name    string
		record  join.Record
		verdict join.Verdict
		want    map[string]any
	}{{
		name:    "a good request on a route with objectives is marked good",
		record:  join.Record{Route: "shop/checkout", Status: 200},
		verdict: join.Verdict{Objectives: objectives},
		want: map[string]any{AttrRoute: "shop/checkout", AttrStatusCode: int64(200),
			AttrResponseFlags: "-", AttrVerdict: "good"},
	}, {
		name:    "a slow request names the latency objective it broke",
		record:  join.Record{Route: "shop/checkout", Status: 200, Duration: time.Second},
		verdict: join.Verdict{Objectives: objectives, Broken: 0b10},
		want: map[string]any{AttrRoute: "shop/checkout", AttrStatusCode: int64(200),
			AttrResponseFlags: "-", AttrVerdict: "bad", AttrBroken: "latency"},
	}, {
		name:    "a slow connect failure names both objectives and its flags",
		record:  join.Record{Route: "shop/cart", Status: 503, Flags: flags(t, "UF", "URX")},
		verdict: join.Verdict{Objectives: objectives, Broken: 0b11},
		want: map[string]any{AttrRoute: "shop/cart", AttrStatusCode: int64(503),
			AttrResponseFlags: "UF,URX", AttrVerdict: "bad", AttrBroken: "availability,latency"},
	}, {
		name:   "a request that matched no route gets no verdict",
		record: join.Record{Route: model.UnmatchedRoute, Status: 404, Flags: flags(t, "NR")},
		want: map[string]any{AttrRoute: "unmatched", AttrStatusCode: int64(404),
			AttrResponseFlags: "NR"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := ptrace.NewSpan()
			s.Attributes().PutStr("guid:x-request-id", "kept")
			Enrich(s, &tc.record, tc.verdict)
			tc.want["guid:x-request-id"] = "kept"
			if diff := cmp.Diff(tc.want, s.Attributes().AsRaw()); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// spanView is what the synthesis tests compare of a span.
type spanView struct {
	TraceID, SpanID, Name string
	Kind                  ptrace.SpanKind
	Start, End            time.Time
	Status                ptrace.StatusCode
	Message               string
	Attributes            map[string]any
}

func view(s ptrace.Span) spanView {
	return spanView{
		TraceID: s.TraceID().String(), SpanID: s.SpanID().String(), Name: s.Name(), Kind: s.Kind(),
		Start: s.StartTimestamp().AsTime(), End: s.EndTimestamp().AsTime(),
		Status: s.Status().Code(), Message: s.Status().Message(), Attributes: s.Attributes().AsRaw(),
	}
}

func TestSynthesizeBuildsASpanFromTheAccessLog(t *testing.T) {
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	var rid join.RequestID
	copy(rid[:], mustHex(t, "0123456789ab4def8123456789abcdef"))
	var trace [16]byte
	var span [8]byte
	copy(trace[:], mustHex(t, "4bf92f3577b34da6a3ce929d0e0e4736"))
	copy(span[:], mustHex(t, "00f067aa0ba902b7"))
	for _, tc := range []struct {
		name    string
		record  join.Record
		verdict join.Verdict
		want    spanView
	}{{
		name: "an unsampled 503 takes the trace and span ID of its logged traceparent",
		record: join.Record{RequestID: rid, Route: "shop/checkout", TraceID: trace, SpanID: span,
			HasTrace: true, Start: start, Duration: 40 * time.Millisecond, Status: 503, Flags: flags(t, "UF")},
		verdict: join.Verdict{Objectives: objectives, Broken: 0b01},
		want: spanView{
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7",
			Name: "edge shop/checkout", Kind: ptrace.SpanKindServer,
			Start: start, End: start.Add(40 * time.Millisecond),
			Status: ptrace.StatusCodeError, Message: "broke availability",
			Attributes: map[string]any{
				"guid:x-request-id": "01234567-89ab-4def-8123-456789abcdef",
				"http.status_code":  "503", "response_flags": "UF",
				AttrSynthesized: true, AttrRoute: "shop/checkout", AttrStatusCode: int64(503),
				AttrResponseFlags: "UF", AttrVerdict: "bad", AttrBroken: "availability",
			},
		},
	}, {
		name: "without a traceparent the trace ID is the request ID and the span ID its last half",
		record: join.Record{RequestID: rid, HashedID: true, Route: "shop/cart", Start: start,
			Duration: time.Second, Status: 200},
		verdict: join.Verdict{Objectives: objectives, Broken: 0b10},
		want: spanView{
			TraceID: "0123456789ab4def8123456789abcdef", SpanID: "8123456789abcdef",
			Name: "edge shop/cart", Kind: ptrace.SpanKindServer,
			Start: start, End: start.Add(time.Second),
			Status: ptrace.StatusCodeError, Message: "broke latency",
			Attributes: map[string]any{
				"http.status_code": "200", "response_flags": "-",
				AttrSynthesized: true, AttrRoute: "shop/cart", AttrStatusCode: int64(200),
				AttrResponseFlags: "-", AttrVerdict: "bad", AttrBroken: "latency",
			},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := ptrace.NewSpan()
			Synthesize(s, &tc.record, tc.verdict)
			if diff := cmp.Diff(tc.want, view(s)); diff != "" {
				t.Errorf("span (-want +got):\n%s", diff)
			}
		})
	}
}

func TestASynthesizedSpanWithNoIDsAtAllStillHasValidIDs(t *testing.T) {
	s := ptrace.NewSpan()
	Synthesize(s, &join.Record{Route: "unmatched"}, join.Verdict{Objectives: objectives, Broken: 1})
	if s.TraceID().IsEmpty() || s.SpanID().IsEmpty() {
		t.Errorf("trace %s span %s: want both valid", s.TraceID(), s.SpanID())
	}
	if s.TraceID() == pcommon.TraceID(join.RequestID{}) {
		t.Error("trace ID is all zero")
	}
}
