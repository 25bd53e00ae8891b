package sim

import (
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Spans: what Envoy's OpenTelemetry tracer exports for the requests a node makes, derived
// from the same Request values as the access-log entries, so the two agree.
//
//   - Only sampled requests have a span: Envoy finishes every span but exports only the
//     sampled ones (Span::finishSpan in source/extensions/tracers/opentelemetry/tracer.cc).
//   - The span is the HTTP connection manager's downstream span, kind SERVER, named
//     "ingress" (edgetel sets no route decorator), with the string attributes that
//     TracerImpl::startSpan, HttpTracerUtility::finalizeDownstreamSpan and setCommonTags
//     set (source/common/tracing); guid:x-request-id is the request ID of the log entry.
//   - Its trace ID and span ID are those of the logged traceparent: Envoy's router injects
//     its downstream span's context into the request headers, which the access logger
//     then reads. The span has no parent: the generator's clients send no traceparent.
//     (Real Envoy logs the client's traceparent, or none, for requests that never reached
//     an upstream; the generator logs the span's for every request, a simplification.)
//   - Batching is the tracer's: one buffer per worker thread, flushed once it holds
//     MinFlushSpans spans or when its FlushInterval timer fires with spans in it; a flush
//     is one Export with one ResourceSpans (service.name) and one ScopeSpans.

// Envoy's tracer defaults (runtime keys tracing.opentelemetry.min_flush_spans and
// tracing.opentelemetry.flush_interval_ms).
const (
	DefaultMinFlushSpans     = 5
	DefaultSpanFlushInterval = 5 * time.Second
)

// TracingServiceName is the service.name of the spans: what edgetel's xDS configures in
// Envoy's tracer (xds.TracingServiceName).
const TracingServiceName = "envoy-edge"

// maxPathTagLength is Envoy's default max_path_tag_length: http.url keeps that much path.
const maxPathTagLength = 256

// FillSpan renders r into s as the downstream span that Envoy node nodeID exports for it,
// whether or not r was sampled (SpanBuffer exports only the sampled ones).
func FillSpan(s ptrace.Span, r *Request, nodeID string) {
	s.SetTraceID(r.TraceID)
	s.SetSpanID(r.SpanID)
	s.SetName("ingress")
	s.SetKind(ptrace.SpanKindServer)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(r.Start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(r.Start.Add(r.Duration)))
	a := s.Attributes()
	a.EnsureCapacity(20)
	put := a.PutStr
	put("node_id", nodeID)
	put("zone", "")
	put("guid:x-request-id", r.RequestID)
	put("http.url", r.Scheme+"://"+r.Authority+cutPath(r.Path))
	put("http.method", r.Method)
	put("downstream_cluster", "-")
	put("user_agent", orDash(r.UserAgent))
	put("http.protocol", r.Protocol)
	put("peer.address", r.PeerIP+":"+strconv.FormatUint(uint64(r.ClientPort), 10))
	put("request_size", strconv.FormatUint(r.RequestBodyBytes, 10))
	put("response_size", strconv.FormatUint(r.ResponseBodyBytes, 10))
	put("component", "proxy")
	if r.Route != nil {
		put("upstream_cluster", r.Route.Backend.Cluster)
		put("upstream_cluster.name", r.Route.Backend.Cluster)
	}
	put("http.status_code", strconv.FormatUint(uint64(r.Status), 10))
	put("response_flags", r.Flags.String())
	if r.UpstreamHost != "" {
		put("upstream_address", r.UpstreamHost+":"+strconv.FormatUint(uint64(r.UpstreamPort), 10))
	}
	if r.Status == 0 || r.Status >= 500 {
		put("error", "true")
	}
}

func cutPath(p string) string {
	if len(p) > maxPathTagLength {
		return p[:maxPathTagLength]
	}
	return p
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// SpanRequest returns the Export request that carries the spans of the sampled requests
// among reqs, as one flush of node nodeID's tracer sends them; its span count is zero when
// none was sampled.
func SpanRequest(nodeID string, reqs []*Request) ptraceotlp.ExportRequest {
	b := NewSpanBuffer(nodeID, len(reqs)+1, 0)
	for _, r := range reqs {
		b.Add(r)
	}
	if req, ok := b.Flush(); ok {
		return req
	}
	return ptraceotlp.NewExportRequest()
}

// SpanBuffer is one Envoy worker's tracer buffer. It renders each sampled request's span
// as it is added and hands out Export requests as Envoy flushes them. Not safe for
// concurrent use.
type SpanBuffer struct {
	nodeID   string
	minFlush int
	interval time.Duration
	next     time.Time // when the flush timer fires next; zero until the first Tick

	td    ptrace.Traces
	spans ptrace.SpanSlice
}

// NewSpanBuffer returns a buffer for node nodeID that flushes once it holds minFlush spans
// (at least 1), and, when interval is positive, when Tick finds interval has passed.
func NewSpanBuffer(nodeID string, minFlush int, interval time.Duration) *SpanBuffer {
	b := &SpanBuffer{nodeID: nodeID, minFlush: max(minFlush, 1), interval: interval}
	b.reset()
	return b
}

func (b *SpanBuffer) reset() {
	b.td = ptrace.NewTraces()
	rs := b.td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", TracingServiceName)
	b.spans = rs.ScopeSpans().AppendEmpty().Spans()
}

// Len is the number of spans waiting for a flush.
func (b *SpanBuffer) Len() int { return b.spans.Len() }

// Add buffers r's span if r was sampled; r is not kept. When the buffer reaches its
// minimum, Add returns the flush to send and true.
func (b *SpanBuffer) Add(r *Request) (ptraceotlp.ExportRequest, bool) {
	if !r.Sampled {
		return ptraceotlp.ExportRequest{}, false
	}
	FillSpan(b.spans.AppendEmpty(), r, b.nodeID)
	if b.spans.Len() < b.minFlush {
		return ptraceotlp.ExportRequest{}, false
	}
	return b.Flush()
}

// Tick runs the flush timer up to now: the first call arms it, and each time it fires
// (every interval, whatever Add flushed meanwhile) buffered spans are flushed. It returns
// the flush to send, if any.
func (b *SpanBuffer) Tick(now time.Time) (ptraceotlp.ExportRequest, bool) {
	if b.interval <= 0 {
		return ptraceotlp.ExportRequest{}, false
	}
	if b.next.IsZero() {
		b.next = now.Add(b.interval)
		return ptraceotlp.ExportRequest{}, false
	}
	if now.Before(b.next) {
		return ptraceotlp.ExportRequest{}, false
	}
	for !now.Before(b.next) {
		b.next = b.next.Add(b.interval)
	}
	return b.Flush()
}

// Flush returns the buffered spans as one Export request and empties the buffer; false
// when it was empty, for Envoy sends nothing then.
func (b *SpanBuffer) Flush() (ptraceotlp.ExportRequest, bool) {
	if b.spans.Len() == 0 {
		return ptraceotlp.ExportRequest{}, false
	}
	req := ptraceotlp.NewExportRequestFromTraces(b.td)
	b.reset()
	return req, true
}
