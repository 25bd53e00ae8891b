package ui

import (
	"math"
	"testing"
	"time"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

const day = 24 * time.Hour

func TestAssess(t *testing.T) {
	avail := model.Objective{Name: "availability", Indicator: model.Availability, Target: 0.999}
	for _, tc := range []struct {
		name   string
		window time.Duration
		target float64 // 0: 99.9%
		burn   burns
		want   State
		// long and short windows of the row that decided, and its factor
		long, short time.Duration
		factor      float64
	}{
		{name: "a 28d objective burning 14× over 1h and 5m pages", window: 28 * day,
			burn: burns{time.Hour: 14, 5 * time.Minute: 14}, want: StatePage,
			long: time.Hour, short: 5 * time.Minute, factor: 13.44},
		{name: "a 30d objective burning 14× over 1h and 5m does not page: its factor is 14.4", window: 30 * day,
			burn: burns{time.Hour: 14, 5 * time.Minute: 14}, want: StateOK},
		{name: "a 30d objective burning 15× over 1h and 5m pages", window: 30 * day,
			burn: burns{time.Hour: 15, 5 * time.Minute: 15}, want: StatePage,
			long: time.Hour, short: 5 * time.Minute, factor: 14.4},
		{name: "a 28d objective burning exactly 13.44× over 1h and 5m does not page: the alerts compare with >",
			window: 28 * day, burn: burns{time.Hour: 13.44, 5 * time.Minute: 13.44}, want: StateOK},
		{name: "a 28d objective burning 14× over 1h but 1× over 5m does not page: the burn has stopped",
			window: 28 * day, burn: burns{time.Hour: 14, 5 * time.Minute: 1}, want: StateOK},
		{name: "a 28d objective burning 6× over 6h and 30m pages at 5.6×", window: 28 * day,
			burn: burns{6 * time.Hour: 6, 30 * time.Minute: 6}, want: StatePage,
			long: 6 * time.Hour, short: 30 * time.Minute, factor: 5.6},
		{name: "a 28d objective burning 3× over 1d and 2h files a ticket at 2.8×", window: 28 * day,
			burn: burns{day: 3, 2 * time.Hour: 3}, want: StateTicket,
			long: day, short: 2 * time.Hour, factor: 2.8},
		{name: "a 28d objective burning 1× over 3d and 6h files a ticket at 0.9333×", window: 28 * day,
			burn: burns{3 * day: 1, 6 * time.Hour: 1}, want: StateTicket,
			long: 3 * day, short: 6 * time.Hour, factor: 0.9333},
		{name: "a 28d objective burning 0.9× over every window is ok", window: 28 * day,
			burn: everyWindow(0.9), want: StateOK},
		{name: "a 28d objective that meets both a page and a ticket condition pages", window: 28 * day,
			burn: everyWindow(20), want: StatePage, long: time.Hour, short: 5 * time.Minute, factor: 13.44},
		{name: "a 1d objective burning 0.5× over 1h and 5m pages: a day's budget is small", window: day,
			burn: burns{time.Hour: 0.5, 5 * time.Minute: 0.5}, want: StatePage,
			long: time.Hour, short: 5 * time.Minute, factor: 0.48},
		{name: "a 1d objective burning 1× over 3d and 6h is ok: no alert looks further back than its window",
			window: day, burn: burns{3 * day: 1, 6 * time.Hour: 1}, want: StateOK},
		{name: "an objective without a window is judged over the default 28d", window: 0,
			burn: burns{time.Hour: 14, 5 * time.Minute: 14}, want: StatePage,
			long: time.Hour, short: 5 * time.Minute, factor: 13.44},
		{name: "a 100% objective with any error pages: its burn rate is infinite", window: 28 * day,
			target: 1, burn: everyWindow(math.Inf(1)), want: StatePage,
			long: time.Hour, short: 5 * time.Minute, factor: 13.44},
		{name: "an objective without traffic is ok", window: 28 * day, burn: burns{}, want: StateOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := avail
			if tc.target != 0 {
				o.Target = tc.target
			}
			state, pair := Assess(tc.window, objectiveStatus(o, tc.window, tc.burn, 1000))
			if state != tc.want {
				t.Fatalf("state %q, want %q", state, tc.want)
			}
			if pair.Long != tc.long || pair.Short != tc.short || pair.Factor != tc.factor {
				t.Errorf("decided by %v/%v at %v×, want %v/%v at %v×", pair.Long, pair.Short, pair.Factor,
					tc.long, tc.short, tc.factor)
			}
			if state != StateOK && string(pair.Severity) != string(state) {
				t.Errorf("row severity %q for state %q", pair.Severity, state)
			}
		})
	}
}

// TestAssessUsesTheRulesFactors checks the page's thresholds against the rule generator's
// for every SLO window of the examples and a few more: one formula, one source of truth.
func TestAssessUsesTheRulesFactors(t *testing.T) {
	for _, w := range []time.Duration{day, 7 * day, 28 * day, 30 * day, 90 * day} {
		for _, p := range slo.AlertPairs(w) {
			just := p.Factor * 1.001
			o := objectiveStatus(model.Objective{Name: "a", Indicator: model.Availability, Target: 0.99}, w,
				burns{p.Long: just, p.Short: just}, 100)
			if state, got := Assess(w, o); state != State(p.Severity) || got.Factor != p.Factor {
				t.Errorf("%v window, %v/%v burning %v×: %q by %v×, want %q by %v×", w, p.Long, p.Short,
					just, state, got.Factor, p.Severity, p.Factor)
			}
		}
	}
}

func everyWindow(v float64) burns {
	b := burns{}
	for _, w := range slo.Windows {
		b[w] = v
	}
	return b
}
