package loki

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkConsumeRecords measures the ALS worker's cost per record: format, copy, enqueue.
// Loki is a server that discards what it gets; allocations include the sender's.
func BenchmarkConsumeRecords(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	cfg := Config{URL: srv.URL, BatchWait: 10 * time.Millisecond, BufferLines: 1 << 20, BufferBytes: 1 << 30}
	x, err := New(cfg, testEdge(true), nil)
	if err != nil {
		b.Fatal(err)
	}
	_ = x.Start(b.Context())
	defer func() { _ = x.Shutdown(b.Context()) }()
	batch := records("bench", 30) // one Envoy flush
	b.ReportAllocs()
	for b.Loop() {
		x.ConsumeRecords(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/record")
}

// BenchmarkAppendLine measures formatting alone, into a reused buffer.
func BenchmarkAppendLine(b *testing.B) {
	r := testRecord()
	rt := newRouting(testEdge(true), DefaultNodeGroup, DefaultMaxNodeGroups)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendLine(buf[:0], &r, rt.redactQuery)
		_ = rt.streamOf(&r)
	}
}
