// Command edgetel-bench compares `edgetel sink` with its OpenTelemetry Collector peer under
// the same load (`make bench-compare`), or soaks the sink at a fixed rate (`make soak`).
// See docs/performance.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/edgetel/edgetel/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "edgetel-bench:", err)
		os.Exit(1)
	}
}

type flags struct {
	mode, edgetel, peer, dir, xdsBench, protocols string
	core, streams, peerStreams, corpus, rounds    int
	rate, below                                   float64
	duration, markerEvery, sampleEvery            time.Duration
	maxEntries                                    uint64
}

func parseFlags() flags {
	var f flags
	flag.StringVar(&f.mode, "mode", "compare", "compare (every side, one table) or soak (edgetel at -rate, RSS sampled)")
	flag.StringVar(&f.edgetel, "edgetel", "bin/edgetel", "the edgetel binary")
	flag.StringVar(&f.peer, "otelcol", "", "the peer's binary (edgetel-otelcol); none: edgetel alone")
	flag.StringVar(&f.dir, "dir", "", "directory for configs and process logs (default: a new temporary one)")
	flag.StringVar(&f.xdsBench, "xds-bench", "", "output of the control plane's `go test -bench` to add to the table")
	flag.StringVar(&f.protocols, "protocols", "als,otlp", "edgetel sides to run: als, otlp")
	flag.IntVar(&f.core, "core", 0, "the core both sides are pinned to (taskset); -1: no pinning")
	flag.IntVar(&f.streams, "streams", 4, "concurrent streams (ALS) or Export loops (OTLP), one connection each")
	flag.IntVar(&f.peerStreams, "peer-streams", 0, "the peer's streams, when not -streams")
	flag.IntVar(&f.corpus, "corpus", 20000, "entries in the fixed corpus the streams cycle through")
	flag.Float64Var(&f.rate, "rate", 0, "entries/s across the streams; 0: as fast as the side takes them")
	flag.Float64Var(&f.below, "below-saturation", 0.85, "rerun a side that dropped at the maximum rate at this fraction of what it counted; 0: no rerun")
	flag.DurationVar(&f.duration, "duration", 20*time.Second, "load time per side")
	flag.IntVar(&f.rounds, "rounds", 1, "times every side runs, in turn; the ratios' medians are reported")
	flag.Uint64Var(&f.maxEntries, "max-entries", 200_000_000, "entries per side at most")
	flag.DurationVar(&f.markerEvery, "marker-every", 500*time.Millisecond, "pause between latency markers")
	flag.DurationVar(&f.sampleEvery, "sample-every", 10*time.Second, "RSS sampling period of the soak")
	flag.Parse()
	return f
}

func run() error {
	f := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.dir == "" {
		d, err := os.MkdirTemp("", "edgetel-bench-")
		if err != nil {
			return err
		}
		f.dir = d
	}
	cfg := bench.Config{EdgetelBin: abs(f.edgetel), PeerBin: f.peer, Core: f.core, Dir: f.dir,
		Streams: f.streams, PeerStreams: f.peerStreams, Rate: f.rate, Duration: f.duration,
		MaxEntries: f.maxEntries, Protocols: strings.Split(f.protocols, ","), CorpusSize: f.corpus,
		MarkerEvery: f.markerEvery, BelowSaturation: f.below, Rounds: f.rounds}
	if f.mode == "soak" {
		return soak(ctx, cfg, f)
	}
	if f.mode != "compare" {
		return fmt.Errorf("-mode %q: want compare or soak", f.mode)
	}
	fmt.Printf("edgetel-bench: %s per side, %d round(s), %d streams, core %d, %s; logs in %s\n\n",
		f.duration, f.rounds, f.streams, f.core, bench.Machine(), f.dir)
	results, err := bench.Compare(ctx, cfg)
	bench.WriteTable(os.Stdout, results)
	bench.WriteDiffs(os.Stdout, results)
	if err != nil {
		return err
	}
	if f.xdsBench != "" {
		fmt.Println()
		in, err := os.Open(f.xdsBench)
		if err != nil {
			return err
		}
		defer in.Close()
		return bench.WriteBenchTable(os.Stdout, in)
	}
	return nil
}

// soak runs edgetel alone at cfg.Rate, samples its RSS and reports the slope.
func soak(ctx context.Context, cfg bench.Config, f flags) error {
	cfg.PeerBin = ""
	cfg.SampleEvery = f.sampleEvery
	var samples []bench.Sample
	cfg.Sample = func(_ string, el time.Duration, rss int64, drops uint64) {
		samples = append(samples, bench.Sample{Elapsed: el, RSS: rss})
		fmt.Printf("  %6.0fs  RSS %6.1f MiB  dropped so far %d\n", el.Seconds(), float64(rss)/(1<<20), drops)
	}
	fmt.Printf("edgetel-bench soak: %s at %.0f entries/s, %d streams, core %d, %s; logs in %s\n",
		f.duration, f.rate, f.streams, f.core, bench.Machine(), f.dir)
	results, err := bench.Compare(ctx, cfg)
	fmt.Println()
	bench.WriteTable(os.Stdout, results)
	bench.WriteDiffs(os.Stdout, results)
	if err != nil {
		return err
	}
	fmt.Println()
	bench.WriteSoak(os.Stdout, samples, results)
	return nil
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
