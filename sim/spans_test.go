package sim

import (
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// spanAttrs returns a span's attributes as strings, for comparison.
func spanAttrs(s ptrace.Span) map[string]string {
	out := map[string]string{}
	for k, v := range s.Attributes().All() {
		out[k] = v.AsString()
	}
	return out
}

// spansOf lists the spans of a request, checking that it is shaped as Envoy's flushes are.
func spansOf(t *testing.T, req ptraceotlp.ExportRequest) []ptrace.Span {
	t.Helper()
	rss := req.Traces().ResourceSpans()
	if rss.Len() != 1 || rss.At(0).ScopeSpans().Len() != 1 {
		t.Fatalf("a flush has %d ResourceSpans, want one with one ScopeSpans", rss.Len())
	}
	if v, _ := rss.At(0).Resource().Attributes().Get("service.name"); v.Str() != TracingServiceName {
		t.Errorf("service.name is %q, want %q", v.Str(), TracingServiceName)
	}
	var out []ptrace.Span
	for _, s := range rss.At(0).ScopeSpans().At(0).Spans().All() {
		out = append(out, s)
	}
	return out
}

func TestASpanCarriesTheRequestIDAndTraceparentIDsOfItsAccessLogEntry(t *testing.T) {
	edge := exampleEdge(t)
	g := newTestGenerator(t, edge, Workload{Rate: 100, Unmatched: 0.05})
	var e accesslogv3.HTTPAccessLogEntry
	for range 500 {
		r := g.Next(&e)
		s := ptrace.NewSpan()
		FillSpan(s, r, "edge-0")
		a := spanAttrs(s)
		if a["guid:x-request-id"] != e.GetRequest().GetRequestId() {
			t.Fatalf("span request ID %q, log entry's %q", a["guid:x-request-id"], e.GetRequest().GetRequestId())
		}
		logged := e.GetRequest().GetRequestHeaders()["traceparent"]
		if want := Traceparent(s.TraceID(), s.SpanID(), r.Sampled); logged != want {
			t.Fatalf("logged traceparent %s, but the span is %s", logged, want)
		}
		if !s.ParentSpanID().IsEmpty() || s.Kind() != ptrace.SpanKindServer || s.Name() != "ingress" {
			t.Fatalf("span %s: parent %s, kind %s; want a root SERVER span named ingress",
				s.Name(), s.ParentSpanID(), s.Kind())
		}
		if got := s.EndTimestamp().AsTime().Sub(s.StartTimestamp().AsTime()); got != r.Duration {
			t.Fatalf("span lasts %v, the request %v", got, r.Duration)
		}
	}
}

func TestASpanHasTheAttributesEnvoySets(t *testing.T) {
	r := &Request{
		Start: time.Unix(1700000000, 0), Duration: 120 * time.Millisecond,
		Protocol: "HTTP/2", Method: "GET", Scheme: "https", Authority: "shop.example.com",
		Path: "/checkout/cart?id=7", PeerIP: "203.0.113.9", ClientPort: 51234,
		RequestID: "0b9a3f1e-2c4d-9e5f-8a6b-7c8d9e0f1a2b", Sampled: true,
		Status: 503, Flags: FlagUF, UpstreamHost: "10.244.1.10", UpstreamPort: 8080,
		RequestBodyBytes: 12, ResponseBodyBytes: 91,
	}
	r.Route = &exampleEdge(t).Routes[0]
	s := ptrace.NewSpan()
	FillSpan(s, r, "edge-1")
	cluster := r.Route.Backend.Cluster
	want := map[string]string{
		"node_id": "edge-1", "zone": "", "guid:x-request-id": r.RequestID,
		"http.url": "https://shop.example.com/checkout/cart?id=7", "http.method": "GET",
		"downstream_cluster": "-", "user_agent": "-", "http.protocol": "HTTP/2",
		"peer.address": "203.0.113.9:51234", "request_size": "12", "response_size": "91",
		"component": "proxy", "upstream_cluster": cluster, "upstream_cluster.name": cluster,
		"http.status_code": "503", "response_flags": "UF", "upstream_address": "10.244.1.10:8080",
		"error": "true",
	}
	got := spanAttrs(s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s is %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d attributes, want %d: %v", len(got), len(want), got)
	}
}

func TestOnlySampledRequestsAreExportedFiveToAFlush(t *testing.T) {
	edge := exampleEdge(t)
	g := newTestGenerator(t, edge, Workload{Rate: 100})
	b := NewSpanBuffer("edge-0", DefaultMinFlushSpans, DefaultSpanFlushInterval)
	var e accesslogv3.HTTPAccessLogEntry
	sampled, exported := 0, 0
	wantIDs := map[string]bool{}
	for range 3000 {
		r := g.Next(&e)
		if r.Sampled {
			sampled++
			wantIDs[r.RequestID] = true
		}
		req, ok := b.Add(r)
		if !ok {
			continue
		}
		spans := spansOf(t, req)
		if len(spans) != DefaultMinFlushSpans {
			t.Fatalf("a flush of %d spans, want %d", len(spans), DefaultMinFlushSpans)
		}
		for _, s := range spans {
			v, _ := s.Attributes().Get("guid:x-request-id")
			if !wantIDs[v.Str()] {
				t.Fatalf("span of request %s, which was not sampled or was exported twice", v.Str())
			}
			delete(wantIDs, v.Str())
			exported++
		}
	}
	if sampled < 100 {
		t.Fatalf("only %d sampled requests in 3000: the test needs more", sampled)
	}
	if exported+b.Len() != sampled || b.Len() >= DefaultMinFlushSpans {
		t.Errorf("%d exported and %d buffered of %d sampled", exported, b.Len(), sampled)
	}
}

func TestTheFlushTimerSendsWhatIsBufferedEveryInterval(t *testing.T) {
	edge := exampleEdge(t)
	r := &Request{Sampled: true, Route: &edge.Routes[0], RequestID: "x", Start: testEpoch}
	b := NewSpanBuffer("edge-0", DefaultMinFlushSpans, DefaultSpanFlushInterval)
	t0 := testEpoch
	if _, ok := b.Tick(t0); ok {
		t.Fatal("the first Tick only arms the timer")
	}
	b.Add(r)
	b.Add(r)
	if _, ok := b.Tick(t0.Add(4 * time.Second)); ok {
		t.Fatal("flushed before the interval")
	}
	req, ok := b.Tick(t0.Add(5 * time.Second))
	if !ok || len(spansOf(t, req)) != 2 {
		t.Fatalf("the timer at 5s flushed %v (ok %v), want the 2 buffered spans", req, ok)
	}
	if _, ok := b.Tick(t0.Add(10 * time.Second)); ok {
		t.Error("an empty buffer was flushed: Envoy sends nothing then")
	}
	b.Add(r)
	if _, ok := b.Tick(t0.Add(14 * time.Second)); ok {
		t.Error("the timer fires every 5s from its arming: not at 14s")
	}
	if _, ok := b.Tick(t0.Add(15 * time.Second)); !ok {
		t.Error("the timer did not fire at 15s")
	}
}

func TestASpanRequestOfUnsampledRequestsIsEmpty(t *testing.T) {
	r := &Request{RequestID: "x", Start: testEpoch}
	if n := SpanRequest("edge-0", []*Request{r, r}).Traces().SpanCount(); n != 0 {
		t.Errorf("%d spans for unsampled requests", n)
	}
	r.Sampled = true
	if n := SpanRequest("edge-0", []*Request{r, r, r}).Traces().SpanCount(); n != 3 {
		t.Errorf("%d spans for 3 sampled requests", n)
	}
}
