package sink_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/metrics"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/slo"
	"github.com/edgetel/edgetel/ui"
)

// BenchmarkDecodeAndAccount is the sink's hot path on one core: Envoy's access-log messages
// (~530-byte entries in ~16 KiB batches, from the simulator's corpus) decoded from the wire
// and counted against every SLO of the example routes. Run with GOMAXPROCS=1 (make bench).
// It reports entries/s of wall time and of CPU time (the machine is shared), and allocs per
// entry.
func BenchmarkDecodeAndAccount(b *testing.B) {
	edge := sinktest.ExampleEdge(b)
	corpus, err := sim.NewCorpus(edge, 1, sim.DefaultConfig(edge).Workload, 30000)
	if err != nil {
		b.Fatal(err)
	}
	acct := slo.NewAccountant(edge, time.Now)
	decodeAndConsume(b, corpus, als.NewDecoder(als.DefaultLimits()), acct.ConsumeRecords)
}

// decodeAndConsume decodes the corpus's messages with dec and hands each batch to consume
// until b.N entries have gone through, then reports entries/s of wall and of CPU time.
// One b.N is one entry: ns/op and allocs/op read per entry.
func decodeAndConsume(b *testing.B, corpus *sim.Corpus, dec *als.Decoder, consume func([]als.Record)) {
	batch := &als.Batch{}
	b.SetBytes(int64(corpus.Bytes / corpus.Entries))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, start := cpuTime(), time.Now()
	entries := 0
	for i := 0; entries < b.N; i++ {
		if err := dec.Decode(corpus.Messages[i%len(corpus.Messages)], batch); err != nil {
			b.Fatal(err)
		}
		consume(batch.Records)
		entries += len(batch.Records)
	}
	wall, cpu := time.Since(start).Seconds(), (cpuTime() - cpu0).Seconds()
	b.StopTimer()
	b.ReportMetric(float64(entries)/wall, "entries/s")
	if cpu > 0 {
		b.ReportMetric(float64(entries)/cpu, "entries/cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSinkPath is an access-log message's path through the sink as it wires it, on
// one core: decoded, then counted by the SLI accountant, the status page's bad-request
// log, the Envoy-stats store and the join, in that order. Its two cases differ only in
// whether the decoder resolves each record's route in the model (as the sink's receiver
// does) or leaves each consumer to look it up by name.
func BenchmarkSinkPath(b *testing.B) {
	edge := sinktest.ExampleEdge(b)
	corpus, err := sim.NewCorpus(edge, 1, sim.DefaultConfig(edge).Workload, 30000)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		resolve bool
	}{
		{"routes resolved by the decoder", true},
		{"routes looked up by name", false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dec := als.NewDecoder(als.DefaultLimits())
			if tc.resolve {
				dec.SetRoutes(als.NewRouteIndex(edge))
			}
			decodeAndConsume(b, corpus, dec, sinkConsumers(b, edge))
		})
	}
}

// sinkConsumers returns the sink's access-log consumers for edge, called in its order.
func sinkConsumers(b *testing.B, edge *model.Edge) func([]als.Record) {
	acct := slo.NewAccountant(edge, time.Now)
	stats, err := metrics.NewStore(metrics.Config{}, edge, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	j, err := join.New(join.Config{}, edge, join.Discard, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Shutdown(context.Background()) })
	bad := ui.NewBadRequestLog(0)
	if err := bad.Apply(edge); err != nil {
		b.Fatal(err)
	}
	return func(rs []als.Record) {
		acct.ConsumeRecords(rs)
		bad.ConsumeRecords(rs)
		stats.ConsumeRecords(rs)
		j.ConsumeRecords(rs)
	}
}
