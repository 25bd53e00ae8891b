package join_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/slo"
	"github.com/edgetel/edgetel/tracing"
)

// BenchmarkSinkPathWithJoin is what the join adds to the sink's access-log path, on the
// simulator's corpus of the example routes (sampling 5% to 100%): each message decoded
// and accounted as in sink.BenchmarkDecodeAndAccount, without and then with the join,
// which also takes the spans of the message before, as Envoy's tracer sends them a
// little later. ns/op is per access-log entry; the difference is the join's cost, its
// spans' share included. Run with GOMAXPROCS=1.
func BenchmarkSinkPathWithJoin(b *testing.B) {
	edge := sinktest.ExampleEdge(b)
	corpus, err := sim.NewCorpus(edge, 1, sim.DefaultConfig(edge).Workload, 30000)
	if err != nil {
		b.Fatal(err)
	}
	spans := spansOf(b, corpus)
	for _, withJoin := range []bool{false, true} {
		name := "decode+account"
		if withJoin {
			name += "+join"
		}
		b.Run(name, func(b *testing.B) {
			acct := slo.NewAccountant(edge, time.Now)
			j, err := join.New(join.Config{}, edge, join.Discard, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := j.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer j.Shutdown(context.Background())
			dec, batch := als.NewDecoder(als.DefaultLimits()), &als.Batch{}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i, n := 0, 0; n < b.N; i++ {
				k := i % len(corpus.Messages)
				if err := dec.Decode(corpus.Messages[k], batch); err != nil {
					b.Fatal(err)
				}
				acct.ConsumeRecords(batch.Records)
				if withJoin {
					j.ConsumeRecords(batch.Records)
					j.ConsumeSpans(spans[(k+len(spans)-1)%len(spans)])
				}
				n += len(batch.Records)
			}
			cpu := cpuTime() - cpu0
			b.StopTimer()
			// The machine is shared: CPU time per entry is steadier than wall time.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/entry")
			if s := j.Stats(); withJoin && b.N > 100_000 && s.Matched == 0 {
				b.Errorf("nothing matched: %+v", s)
			}
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spansOf returns, per corpus message, the spans of its sampled requests.
func spansOf(b *testing.B, corpus *sim.Corpus) []*tracing.Batch {
	dec, batch := als.NewDecoder(als.DefaultLimits()), &als.Batch{}
	var out []*tracing.Batch
	for _, msg := range corpus.Messages {
		if err := dec.Decode(msg, batch); err != nil {
			b.Fatal(err)
		}
		sb := &tracing.Batch{}
		for i := range batch.Records {
			if r := &batch.Records[i]; r.Sampled {
				trace, span := r.Trace()
				sb.Spans = append(sb.Spans, tracing.Span{RequestID: string(r.RequestID),
					TraceID: trace, SpanID: span, Start: r.Start, End: r.Start.Add(r.Duration)})
			}
		}
		out = append(out, sb)
	}
	return out
}
