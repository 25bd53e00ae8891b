package jaegertest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestExportQueryRestart sends one span over OTLP/gRPC and one over OTLP/HTTP (JSON), reads
// both back by trace ID with their attributes, then restarts Jaeger on the same ports: the
// stored traces are gone (memory storage) and new exports are accepted on the same OTLPAddr.
func TestExportQueryRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Jaeger")
	}
	t0 := time.Now()
	j := Start(t)
	t.Logf("jaeger ready in %s: otlp %s, query %s", time.Since(t0).Round(time.Millisecond), j.OTLPAddr, j.QueryURL)

	now := time.Now().Truncate(time.Microsecond)
	grpcSpan := testSpan{
		service: "edgetel-test", traceID: randomHex(t, 16), spanID: randomHex(t, 8), parent: randomHex(t, 8),
		name: "ingress shop/checkout", kind: 2, start: now.Add(-250 * time.Millisecond), end: now,
		attrs: []attr{
			{"guid:x-request-id", "6c1f0e4e-2f0b-4b5e-9a49-5f3a3c1d7e01"},
			{"edgetel.route", "shop/checkout"},
			{"http.status_code", int64(504)},
			{"edgetel.slo_violated", true},
			{"edgetel.latency_ratio", 2.5},
		},
	}
	if err := exportGRPC(j.OTLPAddr, grpcSpan); err != nil {
		t.Fatal(err)
	}
	httpSpan := grpcSpan
	httpSpan.traceID, httpSpan.spanID, httpSpan.parent = randomHex(t, 16), randomHex(t, 8), ""
	httpSpan.attrs = []attr{{"edgetel.route", "shop/cart"}, {"http.status_code", int64(200)}}
	if err := exportHTTPJSON(j.OTLPHTTPURL, httpSpan); err != nil {
		t.Fatal(err)
	}

	got := waitTrace(t, j, grpcSpan.traceID)
	if len(got) != 1 {
		t.Fatalf("trace %s: %d spans, want 1: %+v", grpcSpan.traceID, len(got), got)
	}
	s := got[0]
	if s.TraceID != grpcSpan.traceID || s.SpanID != grpcSpan.spanID || s.ParentSpanID != grpcSpan.parent ||
		s.Name != grpcSpan.name || s.Kind != 2 || s.Service() != "edgetel-test" ||
		!s.Start.Equal(grpcSpan.start) || !s.End.Equal(grpcSpan.end) {
		t.Errorf("span = %+v, want %+v", s, grpcSpan)
	}
	for _, a := range grpcSpan.attrs {
		if v := s.Attributes[a.key]; v != a.val {
			t.Errorf("attribute %s = %#v, want %#v", a.key, v, a.val)
		}
	}
	if s.Attr("http.status_code") != "504" || s.Attr("guid:x-request-id") == "" || s.Attr("missing") != "" {
		t.Errorf("Attr: %q %q", s.Attr("http.status_code"), s.Attr("guid:x-request-id"))
	}

	got = waitTrace(t, j, strings.ToUpper(httpSpan.traceID))
	if len(got) != 1 || got[0].SpanID != httpSpan.spanID || got[0].ParentSpanID != "" ||
		got[0].Attr("edgetel.route") != "shop/cart" || got[0].Attributes["http.status_code"] != int64(200) {
		t.Fatalf("trace %s = %+v", httpSpan.traceID, got)
	}

	if _, err := j.Trace(t, randomHex(t, 16)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown trace: err = %v, want ErrNotFound", err)
	}

	addr := j.OTLPAddr
	j.Stop()
	if err := exportGRPC(addr, grpcSpan); err == nil {
		t.Fatal("export to a stopped Jaeger succeeded")
	}
	t0 = time.Now()
	j.Restart()
	t.Logf("jaeger restarted in %s", time.Since(t0).Round(time.Millisecond))
	if j.OTLPAddr != addr {
		t.Fatalf("OTLPAddr changed on restart: %s -> %s", addr, j.OTLPAddr)
	}
	if _, err := j.Trace(t, grpcSpan.traceID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("trace from before the restart: err = %v, want ErrNotFound (memory storage)", err)
	}
	after := grpcSpan
	after.traceID = randomHex(t, 16)
	if err := exportGRPC(j.OTLPAddr, after); err != nil {
		t.Fatal(err)
	}
	if got := waitTrace(t, j, after.traceID); len(got) != 1 || got[0].Attr("edgetel.route") != "shop/checkout" {
		t.Fatalf("after restart: %+v", got)
	}
}

// waitTrace polls Trace for up to 10s until the trace exists.
func waitTrace(t *testing.T, j *Jaeger, id string) []Span {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans, err := j.Trace(t, id)
		if err == nil {
			return spans
		}
		if !errors.Is(err, ErrNotFound) || time.Now().After(deadline) {
			t.Fatalf("trace %s: %v", id, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestParseTrace(t *testing.T) {
	body := `{"result":{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
	"scopeSpans":[{"scope":{},"spans":[{"traceId":"0000000000000000000000000000000A","spanId":"0000000000000002",
	"name":"b","kind":2,"startTimeUnixNano":"2000","endTimeUnixNano":3000,"status":{"code":2,"message":"boom"},
	"attributes":[{"key":"i","value":{"intValue":"7"}},{"key":"n","value":{"intValue":8}},
	{"key":"d","value":{"doubleValue":1.5}},{"key":"b","value":{"boolValue":false}},{"key":"x","value":{"bytesValue":"AQI="}},
	{"key":"a","value":{"arrayValue":{"values":[{"stringValue":"p"}]}}},
	{"key":"m","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}}]},
	{"traceId":"0000000000000000000000000000000a","spanId":"0000000000000001","name":"a","startTimeUnixNano":"1000"}]}]}]}}`
	spans, err := parseTrace([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 2 || spans[0].Name != "a" || spans[1].Name != "b" {
		t.Fatalf("spans not ordered by start: %+v", spans)
	}
	b := spans[1]
	if b.TraceID != "0000000000000000000000000000000a" || b.Service() != "svc" || b.Kind != 2 ||
		b.StatusCode != 2 || b.StatusMsg != "boom" || b.Start.UnixNano() != 2000 || b.End.UnixNano() != 3000 {
		t.Errorf("span = %+v", b)
	}
	want := map[string]string{"i": "7", "n": "8", "d": "1.5", "b": "false", "x": "[1 2]", "a": "[p]", "m": "map[k:v]"}
	for k, v := range want {
		if got := b.Attr(k); got != v {
			t.Errorf("Attr(%s) = %q, want %q", k, got, v)
		}
	}
	if _, ok := b.Attributes["i"].(int64); !ok {
		t.Errorf("intValue decoded as %T", b.Attributes["i"])
	}
	if c := Config(1, 2, 3, 4); !strings.Contains(c, "endpoint: 127.0.0.1:1\n") || !strings.Contains(c, "memory:") {
		t.Errorf("config:\n%s", c)
	}
}
