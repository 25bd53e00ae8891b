package sink_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/slo"
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
	dec, batch := als.NewDecoder(als.DefaultLimits()), &als.Batch{}
	b.SetBytes(int64(corpus.Bytes / corpus.Entries))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, start := cpuTime(), time.Now()
	entries := 0
	for i := 0; entries < b.N; i++ {
		msg := corpus.Messages[i%len(corpus.Messages)]
		if err := dec.Decode(msg, batch); err != nil {
			b.Fatal(err)
		}
		acct.ConsumeRecords(batch.Records)
		entries += len(batch.Records)
	}
	wall, cpu := time.Since(start).Seconds(), (cpuTime() - cpu0).Seconds()
	b.StopTimer()
	// One b.N is one entry: ns/op and allocs/op read per entry.
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
