package slo

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// A scenario is traffic to the route of testdata/rules/burn.in.yaml (shop/checkout,
// availability 99.9% over 28d: pages at 13.44× and 5.6×, tickets at 2.8× and 0.9333×) from
// two sink replicas, as the counters Prometheus would scrape from them every 15s. From it
// come a promtool test suite and, by an oracle that computes the error ratios the way
// rate() does, the alerts that must be firing when.

// sampleStep is the scrape interval of the suites' input series.
const sampleStep = 15 * time.Second

// replicas label the two sinks whose counters the rules must sum.
var replicas = [2]string{"sink-a:9464", "sink-b:9464"}

// phase is traffic held steady for dur: per 15s sample, per replica, requests and bad ones.
type phase struct {
	dur         time.Duration
	events, bad [2]int
}

// prediction is the workbook's time to alert: the pair with this long window fires this
// long after the phase starts.
type prediction struct {
	long  time.Duration
	phase int
	after time.Duration
}

// exprCheck is one promql_expr_test of recorded series. With burnWindow set, expr is about
// the burn rate over it and the oracle gives the sample: see burnCheck and overCheck.
type exprCheck struct {
	at         time.Duration
	expr       string
	samples    []string // "labels value"
	burnWindow time.Duration
	over       float64 // overCheck's factor
}

// burnCheck checks the recorded burn rate over w at t, rounded: it is the summed replicas'.
func burnCheck(at, w time.Duration) exprCheck {
	return exprCheck{at: at, expr: "round(" + BurnRateRecord(w) + ")", burnWindow: w}
}

// overCheck checks whether the recorded burn rate over w at t is over factor.
func overCheck(at, w time.Duration, factor float64) exprCheck {
	return exprCheck{at: at, expr: BurnRateRecord(w) + " > bool " + formatFloat(factor), burnWindow: w, over: factor}
}

// value is what the check's expression gives by the oracle, and whether Prometheus 2 and 3
// agree on it (they take the window's first sample differently).
func (c exprCheck) value(o *oracle) (float64, bool) {
	v2, v3 := o.burnFrom(c.at, c.burnWindow, false), o.burnFrom(c.at, c.burnWindow, true)
	if c.over > 0 {
		v2, v3 = b2f(v2 > c.over), b2f(v3 > c.over)
	}
	return math.Round(v2), math.Round(v2) == math.Round(v3)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type scenario struct {
	name, title string
	about       []string // the arithmetic, as comment lines of the suite
	eval        time.Duration
	phases      []phase
	predict     []prediction
	never       []Severity // severities that must not fire at any evaluation
	extra       []exprCheck
	// annotateAt adds an alert_rule_test at that time with every alert's annotations; only
	// for a total outage, where the burn rate is exactly 1/budget.
	annotateAt time.Duration
}

// samples returns the counters summed over the replicas at every sample, from 0 at t=0.
func (s *scenario) samples() (events, bad []float64) {
	events, bad = []float64{0}, []float64{0}
	for _, p := range s.phases {
		for range int(p.dur / sampleStep) {
			n := len(events) - 1
			events = append(events, events[n]+float64(p.events[0]+p.events[1]))
			bad = append(bad, bad[n]+float64(p.bad[0]+p.bad[1]))
		}
	}
	return events, bad
}

func (s *scenario) end() time.Duration {
	var d time.Duration
	for _, p := range s.phases {
		d += p.dur
	}
	return d
}

func (s *scenario) phaseStart(i int) time.Duration {
	var d time.Duration
	for _, p := range s.phases[:i] {
		d += p.dur
	}
	return d
}

// oracle evaluates the alert conditions on the summed counters.
type oracle struct {
	events, bad []float64
	budget      float64
	pairs       []AlertPair
}

func newOracle(s *scenario) *oracle {
	e, b := s.samples()
	return &oracle{events: e, bad: b, budget: 0.001, pairs: AlertPairs(28 * 24 * time.Hour)}
}

// burn is the burn rate over the window ending at t as Prometheus 2's rate() sees it: the
// increase from the first sample in [t-w, t] to the last, whose extrapolation cancels in
// the ratio. NaN without two samples or without requests.
func (o *oracle) burn(t, w time.Duration) float64 { return o.burnFrom(t, w, false) }

// burnFrom with leftOpen takes the samples in (t-w, t] as Prometheus 3 does: at sample
// boundaries it has one interval less.
func (o *oracle) burnFrom(t, w time.Duration, leftOpen bool) float64 {
	first := max(0, int(math.Ceil(float64(t-w)/float64(sampleStep))))
	if leftOpen && t >= w && (t-w)%sampleStep == 0 {
		first++
	}
	last := min(len(o.events)-1, int(t/sampleStep))
	if last-first < 1 || o.events[last] == o.events[first] {
		return math.NaN()
	}
	return (o.bad[last] - o.bad[first]) / (o.events[last] - o.events[first]) / o.budget
}

// firing returns the pairs whose alert fires at t.
func (o *oracle) firing(t time.Duration) []AlertPair {
	var out []AlertPair
	for _, p := range o.pairs {
		if o.burn(t, p.Long) > p.Factor && o.burn(t, p.Short) > p.Factor {
			out = append(out, p)
		}
	}
	return out
}

// firstFiring is the first evaluation at or after from at which the pair fires, or -1.
func (o *oracle) firstFiring(long, from, end, eval time.Duration) time.Duration {
	for t := from.Truncate(eval); t <= end; t += eval {
		if slices.ContainsFunc(o.firing(t), func(p AlertPair) bool { return p.Long == long }) {
			return t
		}
	}
	return -1
}

// checkTimes are where the suite asserts the firing alerts: inside each run of evaluations
// with the same alerts, margin from either end, where rate()'s 15s granularity cannot move
// the verdict; and at the end of the scenario.
func (o *oracle) checkTimes(end, eval time.Duration) []time.Duration {
	margin := 2 * eval
	var out []time.Duration
	runStart := time.Duration(0)
	for t := eval; t <= end+eval; t += eval {
		if t <= end && stateKey(o.firing(t)) == stateKey(o.firing(runStart)) {
			continue
		}
		if a, b := runStart+margin, t-eval-margin; a <= b {
			out = append(out, a, b)
		}
		runStart = t
	}
	out = append(out, end)
	slices.Sort(out)
	return slices.Compact(out)
}

func stateKey(ps []AlertPair) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(PromDuration(p.Long) + " ")
	}
	return b.String()
}

// burnState is edgetel:slo_burn_state for the firing pairs.
func burnState(ps []AlertPair) int {
	state := 0
	for _, p := range ps {
		if p.Severity == SeverityPage {
			return 2
		}
		state = 1
	}
	return state
}

// minutes writes d the way the suites' eval_time reads it, in Prometheus's compound units:
// 1d41m, 16h50m, 90s.
func minutes(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.s)
			d -= n * u.d
		}
	}
	return b.String()
}
