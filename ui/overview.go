package ui

import (
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

// overviewPage is every route at a glance.
type overviewPage struct {
	NoSink  bool
	Windows []string
	Span    string // how far back the charts reach
	Routes  []routeRow
	Counts  stateCounts
	NoSLO   int
	Tiles   []tile
}

type stateCounts struct{ Page, Ticket, OK int }

func (c *stateCounts) add(s State) {
	switch s {
	case StatePage:
		c.Page++
	case StateTicket:
		c.Ticket++
	default:
		c.OK++
	}
}

// tile is one headline number.
type tile struct {
	Label, Value, Note, Class, Href string
}

type routeRow struct {
	Name, Href string
	State      State
	Requests   uint64
	Err5xx     uint64
	ErrPct     string
	Objectives []objRow
	Rows       int // rowspan: one row per objective, at least one
}

type objRow struct {
	Name, Target, Threshold, Window string
	Budget                          budgetView
	Burns                           []burnCell
	Spark                           spark
	State                           State
	StateWhy                        string
	Events, Good                    uint64
}

type budgetView struct {
	Text, Title, Class string
	Width              float64 // of the bar's fill, out of budgetBarWidth
}

const budgetBarWidth = 60

type burnCell struct {
	Text, Class, Title string
}

func (u *UI) serveOverview(w http.ResponseWriter, _ *http.Request) {
	u.render(w, "overview", "Overview", u.overview())
}

func (u *UI) overview() overviewPage {
	p := overviewPage{}
	for _, w := range slo.Windows {
		p.Windows = append(p.Windows, fmtWindow(w))
	}
	p.Tiles = u.headlineTiles()
	if u.cfg.Status == nil {
		p.NoSink = true
		return p
	}
	now := u.cfg.Now()
	from := now.UnixNano()
	for _, rs := range u.cfg.Status.Status() {
		row, since := u.routeRow(now, &rs)
		from = min(from, since)
		if len(rs.Objectives) == 0 {
			p.NoSLO++
		} else {
			p.Counts.add(row.State)
		}
		p.Routes = append(p.Routes, row)
	}
	p.Span = fmtWindow(u.cfg.History) // until the first samples
	if from < now.UnixNano() {
		p.Span = fmtSpan(now.Sub(time.Unix(0, from)))
	}
	return p
}

// routeRow is a route's rows; from is where its chart starts.
func (u *UI) routeRow(now time.Time, rs *slo.RouteStatus) (row routeRow, from int64) {
	row = routeRow{Name: rs.Route, Href: routeHref(rs.Route), State: StateOK,
		Err5xx: rs.Requests[class5xx], Rows: max(1, len(rs.Objectives))}
	for _, c := range rs.Requests {
		row.Requests += c
	}
	row.ErrPct = "–"
	if row.Requests > 0 {
		row.ErrPct = fmtPct(float64(row.Err5xx) / float64(row.Requests))
	}
	samples, names := u.hist.series(rs.Route)
	from, to := u.span(now, samples)
	for j := range rs.Objectives {
		o := &rs.Objectives[j]
		or := objectiveRow(rs.Window, o, now)
		if j < len(names) && names[j] == o.Name {
			page := pageFactor(rs.Window)
			or.Spark = sparkline(burnPoints(samples, j), from, to, page,
				"1h burn rate of "+o.Name+" since "+time.Unix(0, from).UTC().Format("15:04")+
					"; the dashed line is the page threshold, "+fmtFactor(page))
		} else {
			or.Spark.Empty = true
		}
		row.State = worst(row.State, or.State)
		row.Objectives = append(row.Objectives, or)
	}
	if len(samples) == 0 {
		from = now.UnixNano()
	}
	return row, from
}

// span is the time range of the charts: the history's length, or less while it fills.
func (u *UI) span(now time.Time, samples []sample) (from, to int64) {
	to, from = now.UnixNano(), now.Add(-u.cfg.History).UnixNano()
	if len(samples) > 0 && samples[0].at > from {
		from = samples[0].at
	}
	if to-from < int64(time.Minute) {
		from = to - int64(time.Minute)
	}
	return from, to
}

func objectiveRow(window time.Duration, o *slo.ObjectiveStatus, now time.Time) objRow {
	state, pair := Assess(window, *o)
	r := objRow{Name: o.Name, Target: fmtTarget(o.Target),
		Window: fmtWindow(sloWindowOr(window)), State: state, Events: o.Events, Good: o.Good,
		Budget: budget(o, now)}
	if o.Indicator == model.Latency {
		r.Threshold = "≤ " + fmtDur(o.Threshold)
	}
	r.StateWhy = "no burn-rate alert condition holds"
	if state != StateOK {
		r.StateWhy = string(state) + ": burn rate over " + fmtWindow(pair.Long) + " and " +
			fmtWindow(pair.Short) + " above " + fmtFactor(pair.Factor)
	}
	for _, b := range o.BurnRates {
		r.Burns = append(r.Burns, burnCellOf(window, o, b, now))
	}
	return r
}

func budget(o *slo.ObjectiveStatus, now time.Time) budgetView {
	rem := o.BudgetRemaining
	b := budgetView{Text: fmtPct(rem), Width: round1(budgetBarWidth * math.Max(0, math.Min(1, rem)))}
	switch {
	case rem < 0:
		b.Class = "neg"
	case rem < 0.25:
		b.Class = "low"
	}
	b.Title = fmtPct(rem) + " of the " + fmtWindow(o.SLOWindow.Window) + " error budget left"
	if !o.SLOWindow.Filled {
		b.Title += " (over the " + fmtSpan(now.Sub(o.Since)) + " of data so far)"
	}
	return b
}

// burnCellOf shows a burn rate, marked with the most urgent alert condition it takes part
// in: the cell is red when it is the long or short window of a page row above its factor.
func burnCellOf(window time.Duration, o *slo.ObjectiveStatus, b slo.WindowStatus, now time.Time) burnCell {
	c := burnCell{Text: fmtBurn(b.BurnRate)}
	if b.Events == 0 {
		c.Text, c.Class = "–", "idle"
	}
	c.Title = fmtWindow(b.Window) + ": " + fmtNum(math.Round(b.Bad)) + " bad of " +
		fmtNum(math.Round(b.Events)) + " events"
	state := StateOK
	for _, p := range slo.AlertPairs(sloWindowOr(window)) {
		if (p.Long == b.Window || p.Short == b.Window) && b.BurnRate > p.Factor {
			state = worst(state, State(p.Severity))
		}
	}
	switch {
	case state != StateOK:
		c.Class = "burn-" + string(state)
	case b.BurnRate > 1:
		c.Class = "burn-over"
	}
	if !b.Filled {
		c.Class = strings.TrimSpace(c.Class + " partial")
		c.Title += " (window not yet filled: over the " + fmtSpan(now.Sub(o.Since)) + " of data)"
	}
	return c
}

// burnPoints is the 1h burn rate of objective j over the samples.
func burnPoints(samples []sample, j int) []pt {
	out := make([]pt, len(samples))
	for i, s := range samples {
		out[i] = pt{t: s.at, v: float64(s.obj[j].burn1h)}
	}
	return out
}

// pageFactor is the factor of the first page row (1h and 5m) for the SLO window.
func pageFactor(window time.Duration) float64 {
	for _, p := range slo.AlertPairs(sloWindowOr(window)) {
		if p.Severity == slo.SeverityPage {
			return p.Factor
		}
	}
	return 0
}

func sloWindowOr(w time.Duration) time.Duration {
	if w <= 0 {
		return slo.DefaultSLOWindow
	}
	return w
}

// routeHref is the route page of a route name, each segment escaped.
func routeHref(route string) string {
	segs := strings.Split(route, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/routes/" + strings.Join(segs, "/")
}
