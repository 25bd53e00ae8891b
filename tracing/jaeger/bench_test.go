package jaeger

import (
	"context"
	"testing"
	"time"

	"github.com/edgetel/edgetel/join"
)

// BenchmarkHoldAndEnrich measures what the exporter costs the trace receiver and the join
// per span (one op is one span): the copy into the pending buffer, then its enrichment and
// queueing. The queue drains into a fake Jaeger meanwhile, on the same CPUs.
func BenchmarkHoldAndEnrich(b *testing.B) {
	f := &fakeJaeger{t: &testing.T{}, addr: "127.0.0.1:0"}
	f.start()
	defer f.stop()
	e, err := New(Config{Endpoint: f.addr, QueueSpans: 1 << 16, BatchTimeout: time.Millisecond}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = e.Shutdown(context.Background()) }()
	const n = 64
	rec := join.Record{Route: "shop/checkout", Status: 200}
	joined := make([]join.Joined, n)
	for i := range joined {
		joined[i] = joinedSpan(i, &rec, join.Verdict{Objectives: objectives})
	}
	batch := spans(0, n, true)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += n {
		e.ConsumeSpans(batch)
		e.ConsumeJoined(joined)
	}
}
