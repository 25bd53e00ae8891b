package bench

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the comparison as one Markdown table, then the ratios of each edgetel
// side to the peer of the same round (when there is one) and, over several rounds, their
// medians.
func WriteTable(w io.Writer, results []Result) {
	rounds := 0
	for _, r := range results {
		rounds = max(rounds, r.Round)
	}
	name := func(r Result) string {
		if rounds > 1 {
			return fmt.Sprintf("%s, round %d", r.Side, r.Round)
		}
		return r.Side
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| side\t| streams\t| offered\t| entries/s\t| CPU µs/entry\t| entries/CPU-s\t| waited for core\t| peak RSS MiB\t| p50 / p99 arrival→/metrics\t| drops\t| counts exact\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t|")
	for _, r := range results {
		fmt.Fprintf(tw, "| %s\t| %d\t| %s\t| %s\t| %.2f\t| %s\t| %s\t| %.1f\t| %s / %s (%d markers%s)\t| %d\t| %s\t|\n",
			name(r), r.Streams, offered(r.Rate), thousands(r.EntriesPerSecond()), micros(r.CPUPerEntry()),
			thousands(perCPUSecond(r)), waited(r), float64(r.PeakRSS)/(1<<20),
			millis(r.Probe.Quantile(0.5)), millis(r.Probe.Quantile(0.99)), len(r.Probe.Latencies), lost(r.Probe),
			r.Drops, exact(r))
	}
	tw.Flush()
	ratios := Ratios(results)
	if len(ratios) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| edgetel ÷ peer\t| throughput\t| CPU per entry\t| peak RSS\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t|")
	row := func(label string, q Ratio) {
		fmt.Fprintf(tw, "| %s\t| %.1f×\t| %.3f× (peer uses %.1f× the CPU)\t| %.2f×\t|\n",
			label, q.Throughput, 1/q.PeerCPU, q.PeerCPU, q.RSS)
	}
	for _, q := range ratios {
		label := q.Side + ", " + offered(q.Rate)
		if rounds > 1 {
			label += fmt.Sprintf(", round %d", q.Round)
		}
		row(label, q)
	}
	if rounds > 1 {
		for _, q := range MedianRatios(ratios) {
			row(fmt.Sprintf("**%s, %s, median of %d rounds**", q.Side, offered(q.Rate), rounds), q)
		}
	}
	tw.Flush()
}

// Ratio is an edgetel side measured against the peer of the same round.
type Ratio struct {
	Side  string
	Rate  float64 // offered; 0: the maximum
	Round int
	// Throughput is edgetel's entries/s over the peer's; PeerCPU the peer's CPU per entry
	// over edgetel's; RSS edgetel's peak RSS over the peer's.
	Throughput, PeerCPU, RSS float64
}

// Ratios returns each edgetel result against the peer of its round, in results' order.
func Ratios(results []Result) []Ratio {
	var out []Ratio
	for _, r := range results {
		if r.Side == PeerName {
			continue
		}
		peer, ok := findRound(results, PeerName, r.Round)
		if !ok || r.CPU <= 0 || r.Counted == 0 || peer.Counted == 0 || peer.PeakRSS <= 0 {
			continue
		}
		out = append(out, Ratio{Side: r.Side, Rate: r.Rate, Round: r.Round,
			Throughput: r.EntriesPerSecond() / peer.EntriesPerSecond(),
			PeerCPU:    cpuPerEntry(peer) / cpuPerEntry(r),
			RSS:        float64(r.PeakRSS) / float64(peer.PeakRSS)})
	}
	return out
}

// MedianRatios returns, per side and offered rate, the median of each ratio over the
// rounds (for an even count, the mean of the middle two), in first-seen order.
func MedianRatios(ratios []Ratio) []Ratio {
	type key struct {
		side string
		rate float64
	}
	var order []key
	groups := map[key][]Ratio{}
	for _, q := range ratios {
		k := key{q.Side, q.Rate}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], q)
	}
	var out []Ratio
	for _, k := range order {
		g := groups[k]
		pick := func(f func(Ratio) float64) float64 {
			v := make([]float64, len(g))
			for i, q := range g {
				v[i] = f(q)
			}
			return median(v)
		}
		out = append(out, Ratio{Side: k.side, Rate: k.rate,
			Throughput: pick(func(q Ratio) float64 { return q.Throughput }),
			PeerCPU:    pick(func(q Ratio) float64 { return q.PeerCPU }),
			RSS:        pick(func(q Ratio) float64 { return q.RSS })})
	}
	return out
}

func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
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

func findRound(rs []Result, side string, round int) (Result, bool) {
	for _, r := range rs {
		if r.Side == side && r.Round == round {
			return r, true
		}
	}
	return Result{}, false
}

// cpuPerEntry is CPUPerEntry in seconds, unrounded.
func cpuPerEntry(r Result) float64 { return r.CPU.Seconds() / float64(r.Counted) }

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
