package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Sample is the target's RSS at a time into a soak.
type Sample struct {
	Elapsed time.Duration
	RSS     int64
}

// soakWarmup is left out of the slope: the first minute fills pools, queues and rings
// that then stay.
const soakWarmup = time.Minute

// RSSSlope is the least-squares slope of RSS over time, in bytes per minute, of the
// samples after the warm-up (all of them when the run is shorter); 0 with fewer than two.
func RSSSlope(samples []Sample) float64 {
	var use []Sample
	for _, s := range samples {
		if s.Elapsed >= soakWarmup {
			use = append(use, s)
		}
	}
	if len(use) < 2 {
		use = samples
	}
	if len(use) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, s := range use {
		x, y := s.Elapsed.Minutes(), float64(s.RSS)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(use))
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// WriteSoak prints the soak's verdict: RSS at the start and end, its slope, and drops.
func WriteSoak(w io.Writer, samples []Sample, results []Result) {
	if len(samples) == 0 || len(results) == 0 {
		fmt.Fprintln(w, "soak: no samples")
		return
	}
	first, last := samples[0], samples[len(samples)-1]
	var peak int64
	for _, s := range samples {
		peak = max(peak, s.RSS)
	}
	mib := func(b float64) float64 { return b / (1 << 20) }
	fmt.Fprintf(w, "soak: %d RSS samples; RSS %.1f MiB at %.0fs, %.1f MiB at %.0fs, at most %.1f MiB\n",
		len(samples), mib(float64(first.RSS)), first.Elapsed.Seconds(), mib(float64(last.RSS)),
		last.Elapsed.Seconds(), mib(float64(peak)))
	fmt.Fprintf(w, "soak: RSS slope after the first minute: %+.3f MiB/min\n", mib(RSSSlope(samples)))
	for _, r := range results {
		fmt.Fprintf(w, "soak: %s: %d entries in %.0fs (%s entries/s), %d dropped, counts exact: %s\n",
			r.Side, r.Entries, r.Elapsed.Seconds(), thousands(r.EntriesPerSecond()), r.Drops, exact(r))
	}
}

// Machine names the machine: its CPU count and model name from /proc/cpuinfo (the count
// of the machine, not of this process's affinity, which taskset may have narrowed).
func Machine() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown machine"
	}
	n, model := 0, "unknown CPU"
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			n++
		case "model name":
			model = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("%d CPUs (%s)", n, model)
}
