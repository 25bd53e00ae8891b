package jaeger

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/tracing"
)

// Attributes the exporter adds (see the package comment).
const (
	AttrRoute         = "edgetel.route"
	AttrStatusCode    = "edgetel.status_code"
	AttrResponseFlags = "edgetel.response_flags"
	AttrVerdict       = "edgetel.slo.verdict"
	AttrBroken        = "edgetel.slo.broken"
	AttrSynthesized   = "edgetel.synthesized"
)

// Verdicts in AttrVerdict.
const (
	VerdictGood = "good"
	VerdictBad  = "bad"
)

// ServiceName is the service.name of synthesized spans: Envoy's, as edgetel's xDS
// configures its tracer, so that a route's traces sit under one service in Jaeger.
const ServiceName = "envoy-edge"

// ScopeName is the instrumentation scope of synthesized spans.
const ScopeName = "github.com/edgetel/edgetel/tracing/jaeger"

// Enrich adds the record's attributes and verdict to s.
func Enrich(s ptrace.Span, r *join.Record, v join.Verdict) {
	a := s.Attributes()
	a.PutStr(AttrRoute, r.Route)
	a.PutInt(AttrStatusCode, int64(r.Status))
	a.PutStr(AttrResponseFlags, r.Flags.String())
	if len(v.Objectives) == 0 {
		return
	}
	if !v.Bad() {
		a.PutStr(AttrVerdict, VerdictGood)
		return
	}
	a.PutStr(AttrVerdict, VerdictBad)
	a.PutStr(AttrBroken, strings.Join(v.BrokenNames(), ","))
}

// Synthesize renders into s the span of a request that has none, from its record (see
// the package comment).
func Synthesize(s ptrace.Span, r *join.Record, v join.Verdict) {
	trace, span := r.TraceID, r.SpanID
	if !r.HasTrace || pcommon.TraceID(trace).IsEmpty() {
		trace = r.RequestID
	}
	if !r.HasTrace || pcommon.SpanID(span).IsEmpty() {
		copy(span[:], r.RequestID[8:])
	}
	if pcommon.TraceID(trace).IsEmpty() { // no request ID, no traceparent: still a valid ID
		trace[15] = 1
	}
	if pcommon.SpanID(span).IsEmpty() {
		span[7] = 1
	}
	s.SetTraceID(trace)
	s.SetSpanID(span)
	s.SetName("edge " + r.Route)
	s.SetKind(ptrace.SpanKindServer)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(r.Start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(r.Start.Add(r.Duration)))
	s.Status().SetCode(ptrace.StatusCodeError)
	if names := v.BrokenNames(); len(names) > 0 {
		s.Status().SetMessage("broke " + strings.Join(names, ", "))
	}
	a := s.Attributes()
	a.EnsureCapacity(8)
	if !r.HashedID && r.RequestID != (join.RequestID{}) {
		a.PutStr(tracing.AttrRequestID, r.RequestID.String())
	}
	a.PutStr(tracing.AttrStatusCode, strconv.FormatUint(uint64(r.Status), 10))
	a.PutStr(tracing.AttrResponseFlags, r.Flags.String())
	a.PutBool(AttrSynthesized, true)
	Enrich(s, r, v)
}

// origin is the resource and scope that spans came under, copied once per ScopeSpans
// and shared, read-only, by the spans copied from it.
type origin struct {
	res   pcommon.Resource
	scope pcommon.InstrumentationScope
}

// synthesized is the origin of every synthesized span.
var synthesized = func() *origin {
	o := &origin{res: pcommon.NewResource(), scope: pcommon.NewInstrumentationScope()}
	o.res.Attributes().PutStr("service.name", ServiceName)
	o.scope.SetName(ScopeName)
	return o
}()
