package tracing

import (
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Attributes of the downstream span that Envoy's HTTP connection manager finishes
// (HttpTracerUtility::finalizeDownstreamSpan and setCommonTags, TracerImpl::startSpan in
// source/common/tracing). Envoy's OpenTelemetry tracer turns each tag into a string
// attribute, numbers included.
const (
	AttrRequestID       = "guid:x-request-id" // the x-request-id header: the join key
	AttrNodeID          = "node_id"           // the Envoy node's --service-node
	AttrStatusCode      = "http.status_code"  // "0" when no response was sent
	AttrResponseFlags   = "response_flags"    // short codes as in %RESPONSE_FLAGS%, "-" for none
	AttrUpstreamCluster = "upstream_cluster"
	AttrComponent       = "component" // always "proxy"
)

// Span is what the sink reads of one span, decoded once. Fixed-size fields are values; the
// strings and Raw are views of the request the span came in, valid until the Consumer that
// receives the span returns (see Consumer).
type Span struct {
	TraceID [16]byte
	SpanID  [8]byte
	// ParentSpanID is zero for a root span, which is what an edge Envoy exports when the
	// client sent no traceparent.
	ParentSpanID [8]byte
	Start, End   time.Time
	// RequestID is the guid:x-request-id attribute, cut to the receiver's MaxValueBytes;
	// empty for a span that is not an Envoy downstream span (an SDK's, or Envoy's upstream
	// child spans, which do not carry it).
	RequestID string
	// Node is the node_id attribute: the Envoy node that made the span.
	Node string
	// Sampled is true for every span Envoy exports: its tracer exports sampled spans only,
	// and it does not set the span's flags field. A sender that sets the W3C trace flags
	// in flags has its sampled bit read from there.
	Sampled bool
	// Raw is the span as received, its string attributes cut to MaxValueBytes; for a
	// consumer that forwards spans (the Jaeger exporter).
	Raw ptrace.Span
}

// Batch is the spans of one Export request that the receiver accepted.
type Batch struct {
	// Spans has one entry per accepted span, in request order.
	Spans []Span
	// Traces is the request as received, less the spans the receiver rejected: what a
	// forwarding consumer sends on.
	Traces ptrace.Traces
}

// Consumer receives accepted spans, one batch per Export request. The batch, its Spans
// slice, its Traces and the strings and Raw spans in it belong to the receiver and are no
// longer the consumer's once ConsumeSpans returns: a consumer copies what it keeps (a
// string is kept safely by value, but pins the request's memory; ptrace.Traces.CopyTo
// copies a request). ConsumeSpans must not block for long: it is called from the
// receiver's delivery goroutines (ReceiverConfig.Workers, one by default, so that calls do
// not overlap), and while it runs, later requests wait in a bounded queue that drops them,
// counted, when full.
type Consumer interface {
	ConsumeSpans(b *Batch)
}

// ConsumerFunc adapts a function to a Consumer.
type ConsumerFunc func(b *Batch)

// ConsumeSpans calls f(b).
func (f ConsumerFunc) ConsumeSpans(b *Batch) { f(b) }

var _ Consumer = ConsumerFunc(nil)

// Limits bound what one request can make the sink hold or pass on.
type Limits struct {
	// MaxSpans is the most spans accepted from one request; the rest are rejected.
	MaxSpans int
	// MaxValueBytes is the longest string attribute value passed on; a longer one is cut
	// (at a UTF-8 boundary) and counted.
	MaxValueBytes int
}

// extracted counts what extract did to a request.
type extracted struct {
	invalid   int // spans rejected for an all-zero trace or span ID
	overLimit int // spans rejected past Limits.MaxSpans
	truncated int // attribute values cut
}

// extract reads every span of td into b.Spans (appending), removing from td the spans it
// rejects, so that b.Spans and td agree. Rejected: spans with an all-zero trace or span
// ID, which the OTLP and W3C specifications call invalid, and spans past lim.MaxSpans.
func extract(td ptrace.Traces, lim Limits, b *Batch) extracted {
	var x extracted
	b.Traces = td
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sss.At(j).Spans().RemoveIf(func(s ptrace.Span) bool {
				switch {
				case s.TraceID().IsEmpty() || s.SpanID().IsEmpty():
					x.invalid++
					return true
				case len(b.Spans) >= lim.MaxSpans:
					x.overLimit++
					return true
				}
				x.truncated += cutValues(s.Attributes(), lim.MaxValueBytes)
				b.Spans = append(b.Spans, spanOf(s))
				return false
			})
		}
	}
	return x
}

// spanOf reads the fields the sink uses. s's attributes are already cut to the limit.
func spanOf(s ptrace.Span) Span {
	out := Span{
		TraceID:      s.TraceID(),
		SpanID:       s.SpanID(),
		ParentSpanID: s.ParentSpanID(),
		Start:        s.StartTimestamp().AsTime(),
		End:          s.EndTimestamp().AsTime(),
		// Zero flags say nothing (Envoy sets none); otherwise bit 0 is the W3C sampled flag.
		Sampled: s.Flags() == 0 || s.Flags()&1 == 1,
		Raw:     s,
	}
	attrs := s.Attributes()
	out.RequestID = strAttr(attrs, AttrRequestID)
	out.Node = strAttr(attrs, AttrNodeID)
	return out
}

// strAttr returns a string attribute's value, "" when it is absent or not a string.
func strAttr(m pcommon.Map, key string) string {
	v, ok := m.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return ""
	}
	return v.Str()
}

// cutValues cuts string attribute values longer than limit and returns how many it cut.
// The cut value is a copy, so that the long original can be freed.
func cutValues(m pcommon.Map, limit int) int {
	n := 0
	for _, v := range m.All() {
		if v.Type() != pcommon.ValueTypeStr || len(v.Str()) <= limit {
			continue
		}
		v.SetStr(strings.Clone(cutUTF8(v.Str(), limit)))
		n++
	}
	return n
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not split a rune.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
