package slo

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// benchBatch is a realistic mix: 20 routes with an availability and a latency objective,
// 1% 5xx, 1% local failures, durations spread over 1ms to 2s, 90% with a trace (10% of
// those sampled), 1% unmatched. One op is one record.
func benchBatch(size int) (*model.Edge, []als.Record) {
	var routes []model.Route
	for i := range 20 {
		routes = append(routes, sloRoute(fmt.Sprintf("ns%d/route%d", i%4, i), 28*24*time.Hour,
			availability999, latency99))
	}
	m := edge(routes...)
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]als.Record, size)
	for i := range batch {
		name := m.Routes[rng.IntN(len(m.Routes))].Name
		if rng.IntN(100) == 0 {
			name = ""
		}
		r := rec(name, 200, 0, time.Duration(rng.ExpFloat64()*float64(80*time.Millisecond))+time.Millisecond)
		switch rng.IntN(100) {
		case 0:
			r.Status = 503
		case 1:
			r.Status, r.Flags = 0, als.FlagUpstreamConnectionFailure
		}
		if rng.IntN(10) != 0 {
			r = traced(r, byte(i), rng.IntN(10) == 0)
		}
		batch[i] = r
	}
	return m, batch
}

// BenchmarkConsume feeds batches of 100 records through an accountant on the real clock.
// Run it with -cpu 1 for one core's throughput.
func BenchmarkConsume(b *testing.B) {
	m, batch := benchBatch(100)
	a := NewAccountant(m, nil)
	a.ConsumeRecords(batch) // warm: the first batch of a slot advances the rings
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i += len(batch) {
		a.ConsumeRecords(batch[:min(len(batch), b.N-i)])
	}
	reportRates(b, cpuTime()-cpu)
}

// reportRates reports records per second of wall-clock time and, where the platform tells,
// per second of the process's CPU time, which other load on the machine does not inflate.
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkConsumeParallel is BenchmarkConsume from GOMAXPROCS streams at once, into the
// same routes: the contended case.
func BenchmarkConsumeParallel(b *testing.B) {
	m, batch := benchBatch(100)
	a := NewAccountant(m, nil)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine sends whole batches; pb counts records.
		i := 0
		for pb.Next() {
			if i++; i == len(batch) {
				a.ConsumeRecords(batch)
				i = 0
			}
		}
	})
	reportRates(b, cpuTime()-cpu)
}

// BenchmarkCollect is one scrape of 100 routes with two objectives each.
func BenchmarkCollect(b *testing.B) {
	var routes []model.Route
	for i := range 100 {
		routes = append(routes, sloRoute(fmt.Sprintf("ns/r%03d", i), 28*24*time.Hour, availability999, latency99))
	}
	a := NewAccountant(edge(routes...), nil)
	for _, r := range routes {
		a.ConsumeRecords([]als.Record{traced(rec(r.Name, 200, 0, 50*time.Millisecond), 1, true)})
	}
	ch := make(chan prometheus.Metric, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		a.Collect(ch)
		for len(ch) > 0 {
			<-ch
		}
	}
}
