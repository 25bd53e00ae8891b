package bench

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the comparison as one Markdown table, then the ratios of each edgetel
// side to the peer (when there is one).
func WriteTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| side\t| streams\t| offered\t| entries/s\t| CPU µs/entry\t| entries/CPU-s\t| waited for core\t| peak RSS MiB\t| p50 / p99 arrival→/metrics\t| drops\t| counts exact\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t|")
	for _, r := range results {
		fmt.Fprintf(tw, "| %s\t| %d\t| %s\t| %s\t| %.2f\t| %s\t| %s\t| %.1f\t| %s / %s (%d markers%s)\t| %d\t| %s\t|\n",
			r.Side, r.Streams, offered(r.Rate), thousands(r.EntriesPerSecond()), micros(r.CPUPerEntry()),
			thousands(perCPUSecond(r)), waited(r), float64(r.PeakRSS)/(1<<20),
			millis(r.Probe.Quantile(0.5)), millis(r.Probe.Quantile(0.99)), len(r.Probe.Latencies), lost(r.Probe),
			r.Drops, exact(r))
	}
	tw.Flush()
	peer, ok := find(results, PeerName)
	if !ok {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| edgetel ÷ peer\t| throughput\t| CPU per entry\t| peak RSS\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t|")
	for _, r := range results {
		if r.Side == PeerName {
			continue
		}
		fmt.Fprintf(tw, "| %s, %s\t| %.1f×\t| %.3f× (peer uses %.1f× the CPU)\t| %.2f×\t|\n", r.Side, offered(r.Rate),
			r.EntriesPerSecond()/peer.EntriesPerSecond(),
			micros(r.CPUPerEntry())/micros(peer.CPUPerEntry()), micros(peer.CPUPerEntry())/micros(r.CPUPerEntry()),
			float64(r.PeakRSS)/float64(peer.PeakRSS))
	}
	tw.Flush()
}

// WriteDiffs prints why counts were not exact, a few lines a side.
func WriteDiffs(w io.Writer, results []Result) {
	for _, r := range results {
		if r.Exact {
			continue
		}
		fmt.Fprintf(w, "\n%s: counts differ from the generator's truth:\n", r.Side)
		for i, d := range r.Diffs {
			if i == 8 {
				fmt.Fprintf(w, "  ... %d more\n", len(r.Diffs)-i)
				break
			}
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
}

// WriteBenchTable prints the Benchmark lines of `go test -bench` output in r as a table:
// the name and every metric but B/op and allocs/op.
func WriteBenchTable(w io.Writer, r io.Reader) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| control plane, 10,000 routes\t| runs\t| metrics\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t|")
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		var ms []string
		for i := 2; i+1 < len(f); i += 2 {
			v, unit := f[i], f[i+1]
			switch unit {
			case "B/op", "allocs/op":
				continue
			case "ns/op":
				if ns, err := strconv.ParseFloat(v, 64); err == nil {
					v, unit = strconv.FormatFloat(ns/1e6, 'f', 1, 64), "ms/op"
				}
			}
			ms = append(ms, v+" "+unit)
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t|\n", strings.TrimPrefix(f[0], "Benchmark"), f[1], strings.Join(ms, ", "))
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no Benchmark lines in the control plane's benchmark output")
	}
	return tw.Flush()
}

func find(rs []Result, side string) (Result, bool) {
	for _, r := range rs {
		if r.Side == side {
			return r, true
		}
	}
	return Result{}, false
}

func perCPUSecond(r Result) float64 {
	if r.CPU <= 0 {
		return 0
	}
	return float64(r.Entries) / r.CPU.Seconds()
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// waited is the target's run delay as a share of the run.
func waited(r Result) string {
	if r.Elapsed <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*r.RunDelay.Seconds()/r.Elapsed.Seconds())
}

func offered(rate float64) string {
	if rate <= 0 {
		return "max"
	}
	return thousands(rate) + "/s"
}

func lost(p ProbeResult) string {
	if p.Lost == 0 {
		return ""
	}
	return fmt.Sprintf(", %d lost", p.Lost)
}

func exact(r Result) string {
	switch {
	case r.Exact:
		return "yes"
	case r.Timedout:
		return fmt.Sprintf("no (%d differences; drain timed out)", len(r.Diffs))
	}
	return fmt.Sprintf("no (%d differences)", len(r.Diffs))
}

// thousands formats f rounded, with commas: 1,234,567.
func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
