package ui

import (
	"math"
	"strconv"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

// routeCharts draws a route's history: traffic, errors, latency and burn rates. Rates and
// ratios are over each interval between two samples, from the differences of the counters;
// an interval whose counters went down (the route's accounting restarted) is left blank.
func routeCharts(rs *slo.RouteStatus, samples []sample, names []string, from, to int64) []chart {
	reqs := line{name: "requests", class: "s0"}
	errs := line{name: "5xx", class: "s3"}
	for i := 1; i < len(samples); i++ {
		a, b := &samples[i-1], &samples[i]
		dt := float64(b.at-a.at) / 1e9
		reqs.pts = append(reqs.pts, pt{t: b.at, v: perSecond(a.requests, b.requests, dt)})
		errs.pts = append(errs.pts, pt{t: b.at, v: perSecond(a.err5xx, b.err5xx, dt)})
	}
	out := []chart{lineChart("Requests", "per second", from, to, []line{reqs, errs}, nil, fmtNum)}
	return append(out, objectiveCharts(rs, samples, names, from, to)...)
}

// objectiveCharts draws each objective's bad share against its budget (errors and latency
// apart) and its burn rates against the page factor.
func objectiveCharts(rs *slo.RouteStatus, samples []sample, names []string, from, to int64) []chart {
	var avail, lat, burn []line
	var availRefs, latRefs []ref
	for j, o := range rs.Objectives {
		if j >= len(names) || names[j] != o.Name {
			break // the series predates a change of objectives; it restarts at the next sample
		}
		class := "s" + strconv.Itoa(j%4)
		bad := line{name: o.Name, class: class, pts: badRatio(samples, j)}
		budget := ref{label: o.Name + " budget " + fmtPct(o.ErrorBudget()), class: class, v: o.ErrorBudget()}
		if o.Indicator == model.Latency {
			bad.name = o.Name + " > " + fmtDur(o.Threshold)
			lat, latRefs = append(lat, bad), append(latRefs, budget)
		} else {
			avail, availRefs = append(avail, bad), append(availRefs, budget)
		}
		b1, b5 := line{name: o.Name + " 1h", class: class}, line{name: o.Name + " 5m", class: class + " thin"}
		for _, s := range samples {
			b1.pts = append(b1.pts, pt{t: s.at, v: float64(s.obj[j].burn1h)})
			b5.pts = append(b5.pts, pt{t: s.at, v: float64(s.obj[j].burn5m)})
		}
		burn = append(burn, b1, b5)
	}
	var out []chart
	if len(avail) > 0 {
		out = append(out, lineChart("Errors", "bad for availability, share of requests", from, to, avail, availRefs, fmtPct))
	}
	if len(lat) > 0 {
		out = append(out, lineChart("Latency", "slower than the threshold, share of requests", from, to, lat, latRefs, fmtPct))
	}
	if len(burn) > 0 {
		page := pageFactor(rs.Window)
		out = append(out, lineChart("Burn rate", "× the budget's pace, over 1h (solid) and 5m (dashed)", from, to, burn,
			[]ref{{label: "page above " + fmtFactor(page), class: "page", v: page}}, fmtBurn))
	}
	return out
}

func perSecond(a, b uint64, dt float64) float64 {
	if b < a || dt <= 0 {
		return math.NaN()
	}
	return float64(b-a) / dt
}

// badRatio is objective j's bad share of the events of each interval; NaN without events.
func badRatio(samples []sample, j int) []pt {
	var out []pt
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1].obj[j], samples[i].obj[j]
		v := math.NaN()
		if b.events > a.events && b.good >= a.good {
			events, good := b.events-a.events, b.good-a.good
			v = float64(events-min(good, events)) / float64(events)
		}
		out = append(out, pt{t: samples[i].at, v: v})
	}
	return out
}
