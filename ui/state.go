package ui

import (
	"time"

	"github.com/edgetel/edgetel/slo"
)

// State is how an objective stands against its error budget, in the words of the alerts.
type State string

// States, from calm to urgent.
const (
	StateOK     State = "ok"
	StateTicket State = "ticket"
	StatePage   State = "page"
)

// rank orders states so that a route takes the most urgent of its objectives'.
func (s State) rank() int {
	switch s {
	case StatePage:
		return 2
	case StateTicket:
		return 1
	}
	return 0
}

// Assess judges an objective as the generated burn-rate alerts judge it, so that the page
// and the pager never disagree: page while the burn rate of a page row of the SRE workbook's
// table exceeds its factor over both the row's long and short windows, else ticket while a
// ticket row's does, else ok. It returns the row that decided (the zero AlertPair for ok).
//
// The rows and factors are slo.AlertPairs of the SLO window, the source of truth the rule
// generator uses (slo/rules_factors.go): factor = budget share × SLO window ÷ long window,
// e.g. 13.44 over 1h and 5m for a 28d window, 14.4 for 30d. The comparison is the rules'
// strict ">": a burn rate exactly at the factor does not fire.
func Assess(sloWindow time.Duration, o slo.ObjectiveStatus) (State, slo.AlertPair) {
	if sloWindow <= 0 {
		sloWindow = slo.DefaultSLOWindow
	}
	state, decided := StateOK, slo.AlertPair{}
	for _, p := range slo.AlertPairs(sloWindow) {
		s := State(p.Severity)
		if s.rank() <= state.rank() {
			continue
		}
		long, okL := burnOver(o, p.Long)
		short, okS := burnOver(o, p.Short)
		if okL && okS && long > p.Factor && short > p.Factor {
			state, decided = s, p
		}
	}
	return state, decided
}

// burnOver returns the objective's burn rate over w, false if the accountant has no such
// window.
func burnOver(o slo.ObjectiveStatus, w time.Duration) (float64, bool) {
	for _, b := range o.BurnRates {
		if b.Window == w {
			return b.BurnRate, true
		}
	}
	return 0, false
}

// worst returns the more urgent of two states.
func worst(a, b State) State {
	if b.rank() > a.rank() {
		return b
	}
	return a
}
