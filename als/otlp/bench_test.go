package otlp

import (
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/sim"
)

// benchRequests runs decode over the load corpus's OTLP requests (Envoy's flushes of the
// simulator's traffic), one request per iteration, and reports entries/s and allocs/entry.
// Run with GOMAXPROCS=1 to compare with the ALS decoder's figures (als/bench_test.go).
func benchRequests(b *testing.B, decode func(wire []byte) (int, error)) {
	edge, err := config.ExampleEdge()
	if err != nil {
		b.Fatal(err)
	}
	lc, err := sim.NewLoadCorpus(edge, 7, sim.Workload{Rate: 500}, 4000)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	entries, i := 0, 0
	for b.Loop() {
		n, err := decode(lc.OTLP[i])
		if err != nil || n != lc.Entries[i] {
			b.Fatalf("request %d: %d records, want %d: %v", i, n, lc.Entries[i], err)
		}
		entries += n
		i = (i + 1) % len(lc.OTLP)
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(entries), "allocs/entry")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(entries), "ns/entry")
}

// BenchmarkDecodeLogs is the receiver's decoder, into a reused batch.
func BenchmarkDecodeLogs(b *testing.B) {
	var batch Batch
	benchRequests(b, func(wire []byte) (int, error) {
		_, err := decodeLogs(wire, roomy, &batch)
		return len(batch.Records), err
	})
}

// BenchmarkDecodeLogsPdata is what it replaced: pdata's decoding of a new request, as
// the codec gave it to the receiver, and the mapping of pdata's logs into a reused batch.
func BenchmarkDecodeLogsPdata(b *testing.B) {
	var batch Batch
	benchRequests(b, func(wire []byte) (int, error) {
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(wire); err != nil {
			return 0, err
		}
		pdataExtract(req.Logs(), roomy, &batch)
		return len(batch.Records), nil
	})
}
