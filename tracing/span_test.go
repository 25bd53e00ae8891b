package tracing

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/edgetel/edgetel/sim"
)

var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// envoyRequest is the Export request an Envoy node sends for n sampled requests, built by
// the simulator as Envoy's tracer builds it; the requests are returned too.
func envoyRequest(n int) (ptraceotlp.ExportRequest, []*sim.Request) {
	var reqs []*sim.Request
	for i := range n {
		r := &sim.Request{
			Start: testStart.Add(time.Duration(i) * time.Millisecond), Duration: 30 * time.Millisecond,
			Protocol: "HTTP/1.1", Method: "GET", Scheme: "http", Authority: "shop.example.com",
			Path: "/checkout/", PeerIP: "198.51.100.7", ClientPort: 40000 + uint32(i),
			RequestID: testRequestID(i), Sampled: true, Status: 200,
		}
		r.TraceID[0], r.TraceID[15] = byte(i+1), 0xaa
		r.SpanID[0], r.SpanID[7] = byte(i+1), 0xbb
		reqs = append(reqs, r)
	}
	return sim.SpanRequest("edge-7", reqs), reqs
}

func testRequestID(i int) string {
	return "6f1c2e4a-1b2c-9d3e-8f4a-" + strings.Repeat("0", 11) + string(rune('0'+i%10))
}

// ignoreRaw compares Spans without their pdata views.
var ignoreRaw = cmpopts.IgnoreFields(Span{}, "Raw")

func TestAnEnvoySpanIsReadIntoItsIDsRequestIDAndNode(t *testing.T) {
	req, reqs := envoyRequest(3)
	var b Batch
	x := extract(req.Traces(), Limits{MaxSpans: 100, MaxValueBytes: 4096}, &b)
	if x != (extracted{}) {
		t.Errorf("a valid Envoy request had %+v rejected or cut", x)
	}
	var want []Span
	for _, r := range reqs {
		want = append(want, Span{
			TraceID: r.TraceID, SpanID: r.SpanID, Start: r.Start, End: r.Start.Add(r.Duration),
			RequestID: r.RequestID, Node: "edge-7", Sampled: true,
		})
	}
	if diff := cmp.Diff(want, b.Spans, ignoreRaw); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	if got, _ := b.Spans[1].Raw.Attributes().Get(AttrComponent); got.Str() != "proxy" {
		t.Errorf("Raw does not view the span as received: component %q", got.Str())
	}
}

func TestSpansWithInvalidIDsOrPastTheLimitAreRemovedAndCounted(t *testing.T) {
	req, _ := envoyRequest(6)
	spans := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.At(1).SetTraceID([16]byte{}) // invalid: all-zero trace ID
	spans.At(2).SetSpanID([8]byte{})   // invalid: all-zero span ID
	var b Batch
	x := extract(req.Traces(), Limits{MaxSpans: 3, MaxValueBytes: 4096}, &b)
	if want := (extracted{invalid: 2, overLimit: 1}); x != want {
		t.Errorf("extract counted %+v, want %+v", x, want)
	}
	var got []string
	for _, s := range b.Spans {
		got = append(got, s.RequestID)
	}
	if want := []string{testRequestID(0), testRequestID(3), testRequestID(4)}; !cmp.Equal(got, want) {
		t.Errorf("kept spans of requests %v, want %v", got, want)
	}
	if n := b.Traces.SpanCount(); n != 3 {
		t.Errorf("the forwarded traces hold %d spans, want the 3 kept", n)
	}
}

func TestALongAttributeIsCutAtARuneBoundaryAndCounted(t *testing.T) {
	req, _ := envoyRequest(1)
	s := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	s.Attributes().PutStr("http.url", "http://x/"+strings.Repeat("é", 100)) // 2 bytes a rune
	s.Attributes().PutStr(AttrRequestID, strings.Repeat("r", 200))
	var b Batch
	x := extract(req.Traces(), Limits{MaxSpans: 10, MaxValueBytes: 64}, &b)
	if x.truncated != 2 {
		t.Errorf("%d values cut, want 2", x.truncated)
	}
	url, _ := b.Spans[0].Raw.Attributes().Get("http.url")
	if want := "http://x/" + strings.Repeat("é", 27); url.Str() != want {
		t.Errorf("http.url cut to %q (%d bytes), want %d bytes", url.Str(), len(url.Str()), len(want))
	}
	if got := b.Spans[0].RequestID; got != strings.Repeat("r", 64) {
		t.Errorf("request ID cut to %d bytes, want 64", len(got))
	}
}

func TestASpanWithTraceFlagsIsSampledByItsSampledBit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uint32
		want  bool
	}{
		{"no flags, as Envoy sends", 0, true},
		{"sampled flag set", 0x101, true},
		{"flags present, sampled bit clear", 0x100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ptrace.NewSpan()
			s.SetFlags(tc.flags)
			if got := spanOf(s).Sampled; got != tc.want {
				t.Errorf("Sampled is %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAConfigOutOfRangeIsRefusedNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		cfg   ReceiverConfig
		field string
	}{
		{ReceiverConfig{QueueRequests: -1}, "QueueRequests"},
		{ReceiverConfig{QueueBytes: -1}, "QueueBytes"},
		{ReceiverConfig{Workers: 1000}, "Workers"},
		{ReceiverConfig{MaxSpansPerRequest: -1}, "MaxSpansPerRequest"},
		{ReceiverConfig{MaxValueBytes: 10}, "MaxValueBytes"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v, want one naming %s", tc.cfg, err, tc.field)
		}
	}
	if err := (ReceiverConfig{}).Validate(); err != nil {
		t.Errorf("the zero config: %v", err)
	}
}
