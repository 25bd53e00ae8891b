package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/edgetel/edgetel/sim"
)

// Side is one pipeline with the protocol it is sent: edgetel as ALS, edgetel as OTLP logs,
// the peer as OTLP logs.
type Side struct {
	Name     string
	Protocol string
	Schema   Schema
	// Start runs the pipeline on a fresh process, listening on free loopback ports.
	Start func(ctx context.Context) (*Target, error)
}

// Run is what every side gets: the same corpus, markers, streams, rate and bounds.
type Run struct {
	Corpus      *sim.LoadCorpus
	Markers     *sim.LoadCorpus
	MarkerRoute string
	Streams     int
	Rate        float64 // entries/s; 0 for as fast as the side takes them
	Duration    time.Duration
	MaxEntries  uint64
	// MarkerEvery is the pause between markers; Drain bounds the wait, after the load,
	// for the exposition to show everything that was sent.
	MarkerEvery, Drain time.Duration
	// Sample, when set, is called every SampleEvery during the load with the target's
	// current RSS (the soak's slope) and what it has dropped so far.
	Sample      func(elapsed time.Duration, rss int64, drops uint64)
	SampleEvery time.Duration
}

// Result is what one side did with a run.
type Result struct {
	Side, Protocol string
	Round          int // of Config.Rounds, from 1
	Streams        int
	Rate           float64       // offered entries/s; 0: as fast as the side took them
	Entries        uint64        // accepted by the transport, markers included
	Counted        uint64        // shown on /metrics at the end
	Elapsed        time.Duration // first send to the exposition showing the last entry
	CPU            time.Duration // the target's, over Elapsed
	// RunDelay is how long the target waited, runnable, for its core over Elapsed: what a
	// shared machine's other tenants took (taskset pins, it does not reserve), and its own
	// threads from each other (rare with GOMAXPROCS=1).
	RunDelay time.Duration
	PeakRSS  int64
	Probe    ProbeResult
	// Drops: what the target says it dropped, plus what the generator saw fail or refused.
	Drops uint64
	// Diffs between the exposition and the truth; none when the counts are exact.
	Diffs    []string
	Exact    bool // the load was confirmed (LoadResult.Exact) and Diffs is empty
	Timedout bool // the drain gave up before the exposition showed everything
}

// EntriesPerSecond is the throughput, wall clock: entries that reached /metrics (a
// dropped entry is not throughput, though it cost CPU).
func (r Result) EntriesPerSecond() float64 { return float64(r.Counted) / r.Elapsed.Seconds() }

// CPUPerEntry is the target's CPU time per entry that reached /metrics.
func (r Result) CPUPerEntry() time.Duration {
	if r.Counted == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Counted)
}

// Measure starts side, runs the load and the probe against it, waits for the exposition
// to show what was sent, and checks it against the truth. The process is stopped after.
func Measure(ctx context.Context, side Side, run Run) (Result, error) {
	t, err := side.Start(ctx)
	if err != nil {
		return Result{}, err
	}
	defer t.Stop()
	res := Result{Side: side.Name, Protocol: side.Protocol, Streams: run.Streams, Rate: run.Rate}
	cpu0, err := t.CPU()
	if err != nil {
		return res, err
	}
	delay0, _ := t.RunDelay()
	start := time.Now()
	stopProbe := startProbe(ctx, t, side, run)
	stopSampling := sampleRSS(ctx, t, side.Schema, start, run)
	load, err := RunLoad(ctx, LoadConfig{Target: t.GRPCAddr, Protocol: side.Protocol, Streams: run.Streams,
		Rate: run.Rate, Duration: run.Duration, MaxEntries: run.MaxEntries}, run.Corpus)
	stopSampling()
	res.Probe = stopProbe()
	if err != nil {
		return res, err
	}
	if res.Probe.Err != nil {
		return res, fmt.Errorf("%s: latency probe: %w", side.Name, res.Probe.Err)
	}
	truth := sim.MergeTruth(run.Corpus.Truth(load.Sent), run.Markers.Truth(res.Probe.Sent))
	counts, end, err := drain(ctx, t, side.Schema, truth.Sent, run.Drain)
	if err != nil {
		return res, err
	}
	delay1, _ := t.RunDelay()
	res.RunDelay = delay1 - delay0
	cpu1, err1 := t.CPU()
	rss, err2 := t.PeakRSS()
	if err1 != nil || err2 != nil {
		return res, fmt.Errorf("%s: reading /proc: %v %v", side.Name, err1, err2)
	}
	res.Entries, res.Counted, res.Elapsed, res.CPU, res.PeakRSS = truth.Sent, counts.Total(), end.Sub(start), cpu1-cpu0, rss
	res.Drops = counts.Drops + load.Failed + load.Rejected
	res.Timedout = counts.Total()+counts.Drops < truth.Sent
	res.Diffs = side.Schema.Check(counts, truth)
	res.Diffs = append(res.Diffs, load.Errors...)
	res.Exact = load.Exact() && len(res.Diffs) == 0
	return res, nil
}

// startProbe runs the latency probe beside the load; stop ends it and returns what it saw.
func startProbe(ctx context.Context, t *Target, side Side, run Run) (stop func() ProbeResult) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan ProbeResult, 1)
	go func() {
		done <- Probe{Target: t.GRPCAddr, MetricsURL: t.MetricsURL, Protocol: side.Protocol,
			Schema: side.Schema, Route: run.MarkerRoute, Markers: run.Markers,
			Every: run.MarkerEvery, Timeout: 10 * time.Second}.Run(ctx)
	}()
	return func() ProbeResult { cancel(); return <-done }
}

// drain polls the exposition until it accounts for want entries (counted or dropped), or
// for timeout; it returns the last counts and when they were read.
func drain(ctx context.Context, t *Target, s Schema, want uint64, timeout time.Duration) (Counts, time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := Scrape(ctx, t.MetricsURL, s)
		now := time.Now()
		if err != nil {
			return c, now, fmt.Errorf("%s: %w", t.Name, err)
		}
		if c.Total()+c.Drops >= want || now.After(deadline) {
			return c, now, nil
		}
		// Not faster: a scrape costs the target CPU (edgetel's, ~3.5 ms).
		time.Sleep(20 * time.Millisecond)
	}
}

// sampleRSS calls run.Sample every run.SampleEvery until the returned stop is called.
func sampleRSS(ctx context.Context, t *Target, s Schema, start time.Time, run Run) (stop func()) {
	if run.Sample == nil || run.SampleEvery <= 0 {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(run.SampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				rss, err := t.RSS()
				c, err2 := Scrape(ctx, t.MetricsURL, s)
				if err == nil && err2 == nil {
					run.Sample(now.Sub(start), rss, c.Drops)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}
