package slo

import (
	"math"
	"time"

	"github.com/edgetel/edgetel/model"
)

// RouteStatus is one route's accounting at one instant.
type RouteStatus struct {
	Route string
	// Since is when this process began counting the route.
	Since time.Time
	// Requests by status class, indexed like CodeClasses.
	Requests   [numCodeClasses]uint64
	Window     time.Duration // the SLO window; 0 for a route without objectives
	Objectives []ObjectiveStatus
}

// ObjectiveStatus is one objective's SLI, burn rates and budget.
type ObjectiveStatus struct {
	model.Objective
	// Events and Good count since the route's Since.
	Events, Good uint64
	// Since is when the objective's windows began to hold data (this process, or the swap that
	// gave the route this threshold); a window is filled once it lies wholly after Since.
	Since time.Time
	// BurnRates are over each of Windows, in order.
	BurnRates [numWindows]WindowStatus
	// SLOWindow is over the route's SLO window, and BudgetRemaining the fraction of the error
	// budget left in it: 1 − (bad/events)/(1 − target). 1 with no traffic; negative once the
	// budget is overspent, to say by how much.
	SLOWindow       WindowStatus
	BudgetRemaining float64
}

// WindowStatus is an objective over one window ending now.
type WindowStatus struct {
	Window time.Duration
	// Events and Bad in the window; the slot in which the window starts counts pro rata, so
	// they need not be whole.
	Events, Bad float64
	// BurnRate is the error ratio over the error budget, (Bad/Events) / (1 − target): 1 spends
	// the budget exactly over the SLO window. 0 with no traffic.
	BurnRate float64
	// Filled reports that the window lies wholly after Since; before that the figures are
	// over the shorter time there is data for.
	Filled bool
}

// Status returns every route's accounting, sorted by route name with unmatched last.
func (a *Accountant) Status() []RouteStatus {
	snaps, _ := a.snapshot()
	out := make([]RouteStatus, len(snaps))
	for i := range snaps {
		out[i] = snaps[i].RouteStatus
	}
	return out
}

// routeSnap is a route's status with the histogram it was computed from.
type routeSnap struct {
	RouteStatus
	hist histSnap
}

// snapshot copies every route's counters under the write lock, so that they are mutually
// consistent, then computes the windows outside it: they only need each route's ring lock.
func (a *Accountant) snapshot() ([]routeSnap, uint64) {
	a.mu.Lock()
	t := a.tbl
	out := make([]routeSnap, len(t.routes))
	for i, r := range t.routes {
		s := &out[i]
		s.Route, s.Since, s.Window = r.name, r.acct.created, r.window
		for c := range s.Requests {
			s.Requests[c] = r.acct.codes[c].Load()
		}
		s.hist = r.acct.hist.snapshot()
		total, availBad := s.hist.count(), r.acct.availBad.Load()
		for _, o := range r.objectives {
			os := ObjectiveStatus{Objective: o.Objective, Events: total, Good: total - availBad}
			if o.Indicator == model.Latency {
				os.Good = s.hist.cumulative(o.le)
			}
			s.Objectives = append(s.Objectives, os)
		}
	}
	unknown := a.unknown.Load()
	a.mu.Unlock()

	now := a.now().UnixNano()
	for i, r := range t.routes {
		for j := range r.objectives {
			r.acct.windows(&r.objectives[j], r.window, now, &out[i].Objectives[j])
		}
	}
	return out, unknown
}

// windowTiers is the tier of each of Windows.
var windowTiers = func() (out [numWindows]int) {
	for i, w := range Windows {
		out[i] = tierFor(fixedTiers[:], w)
	}
	return out
}()

// windows fills in the burn rates and the budget of objective o, read at now.
func (ra *routeAcct) windows(o *objective, window time.Duration, now int64, out *ObjectiveStatus) {
	r := ra.rings
	since := max(ra.since[0], ra.since[o.col])
	out.Since = time.Unix(0, since)
	budget := o.ErrorBudget()
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, w := range Windows {
		out.BurnRates[k] = r.window(windowTiers[k], w, now, since, o.col, budget)
	}
	out.SLOWindow = r.window(tierFor(r.tierShapes(), window), window, now, since, o.col, budget)
	out.BudgetRemaining = 1 - out.SLOWindow.BurnRate
}

// window reads column col over the w before now, not before since; the caller holds r.mu.
func (r *rings) window(tier int, w time.Duration, now, since int64, col int, budget float64) WindowStatus {
	from := max(now-int64(w), since)
	events, bad := r.tiers[tier].sum(from, now, col, r.width)
	return WindowStatus{
		Window:   w,
		Events:   events,
		Bad:      bad,
		BurnRate: burnRate(events, bad, budget),
		Filled:   since <= now-int64(w),
	}
}

// burnRate is (bad/events)/budget, 0 without errors. An objective of 100% has no budget:
// any error burns it infinitely fast.
func burnRate(events, bad, budget float64) float64 {
	switch {
	case bad <= 0 || events <= 0:
		return 0
	case budget <= 0:
		return math.Inf(1)
	}
	return bad / events / budget
}
