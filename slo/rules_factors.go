package slo

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
)

// Severity says who an alert is for: page wakes someone, ticket waits for working hours.
type Severity string

// Severities, the value of the alerts' severity label.
const (
	SeverityPage   Severity = "page"
	SeverityTicket Severity = "ticket"
)

// AlertWindow is one row of the SRE workbook's multiwindow, multi-burn-rate table
// ("Alerting on SLOs", table 5-8): alert with Severity when BudgetShare of the SLO window's
// error budget is being spent within Long, as measured over Long and still over Short.
// Short (Long/12) makes the alert stop soon after the burn stops.
type AlertWindow struct {
	Severity    Severity
	Long, Short time.Duration
	BudgetShare float64
}

// AlertWindows is the workbook's table. For a 30d SLO window its factors are 14.4, 6, 3 and 1.
var AlertWindows = []AlertWindow{
	{SeverityPage, time.Hour, 5 * time.Minute, 0.02},
	{SeverityPage, 6 * time.Hour, 30 * time.Minute, 0.05},
	{SeverityTicket, 24 * time.Hour, 2 * time.Hour, 0.10},
	{SeverityTicket, 72 * time.Hour, 6 * time.Hour, 0.10},
}

// AlertPair is an alert window with the burn-rate factor above which it fires for one SLO
// window.
type AlertPair struct {
	AlertWindow
	Factor float64
}

// BurnRateFactor is the burn rate at which w's share of the budget of an SLO window is spent
// within w.Long: share × SLO window ÷ long window, as Sloth's getBurnRateFactor computes it
// (a 28d window pages at 13.44× where the workbook's 30d pages at 14.4×). It is rounded to
// four significant digits so that the rules, the dashboards and the tests all show the one
// number a person would write (0.9333, not 0.9333333333333333).
func BurnRateFactor(sloWindow time.Duration, w AlertWindow) float64 {
	f := w.BudgetShare * float64(sloWindow) / float64(w.Long)
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 4, 64), 64)
	return r
}

// AlertPairs returns the alert windows that apply to an SLO window, with their factors. A
// long window longer than the SLO window is left out: it would judge the budget on traffic
// older than the window the budget is for (a 1d SLO gets the two page alerts only).
func AlertPairs(sloWindow time.Duration) []AlertPair {
	var out []AlertPair
	for _, w := range AlertWindows {
		if w.Long <= sloWindow {
			out = append(out, AlertPair{AlertWindow: w, Factor: BurnRateFactor(sloWindow, w)})
		}
	}
	return out
}

// sloWindowOf is the route's SLO window, the default when the model has none.
func sloWindowOf(w time.Duration) time.Duration {
	if w <= 0 {
		return DefaultSLOWindow
	}
	return w
}

// promUnits are PromQL's duration units from days down, as PromDuration writes them.
var promUnits = []struct {
	d time.Duration
	s string
}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}}

// PromDuration formats d as a PromQL duration in its largest whole unit: 5m, 1d, 28d, 36h.
// These are also the values of the sink's window label and the suffixes of rule names.
func PromDuration(d time.Duration) string {
	for _, u := range promUnits {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.s
		}
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// promInterval formats an evaluation interval in compound units, 2m30s rather than 150s.
func promInterval(d time.Duration) string {
	var b strings.Builder
	for _, u := range promUnits {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.s)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// Names of the generated series and alerts: the dashboards read exactly these.
const (
	// RecordEventsRate5m and RecordGoodRate5m are the objective's event rates over 5m, the
	// terms of the SLO-window error ratio.
	RecordEventsRate5m = "edgetel:slo_events:rate5m"
	RecordGoodRate5m   = "edgetel:slo_good_events:rate5m"
	// RecordBudgetRemaining is the fraction of the error budget left over the SLO window.
	RecordBudgetRemaining = "edgetel:slo_error_budget_remaining:ratio"
	// RecordBurnState is 2 while a page alert's condition holds, else 1 while a ticket's
	// does, else 0, by the very conditions of the alerts.
	RecordBurnState = "edgetel:slo_burn_state"
	// AlertName is the name of every burn-rate alert; severity and the windows tell them apart.
	AlertName = "EdgetelSLOErrorBudgetBurn"
	// OverviewDashboardUID is the UID of the dashboard of every route's SLOs.
	OverviewDashboardUID = "edgetel-slo-overview"
)

// ErrorRatioRecord names the recorded error ratio over w, e.g. edgetel:slo_error_ratio:rate5m.
func ErrorRatioRecord(w time.Duration) string {
	return "edgetel:slo_error_ratio:rate" + PromDuration(w)
}

// BurnRateRecord names the recorded burn rate over w, e.g. edgetel:slo_burn_rate:rate1h.
func BurnRateRecord(w time.Duration) string { return "edgetel:slo_burn_rate:rate" + PromDuration(w) }

// maxUIDLen is Grafana's limit on dashboard UIDs.
const maxUIDLen = 40

// RouteDashboardUID is the UID of a route's Grafana dashboard, which its alerts link to.
// It is readable where it can be ("edgetel-shop_checkout": namespaces have no '.' or '_',
// so mapping '/' and '.' to '_' keeps distinct routes distinct) and otherwise truncated
// with a hash of the route name, within Grafana's 40 characters of [A-Za-z0-9_-].
func RouteDashboardUID(route string) string {
	uid := "edgetel-" + strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '.':
			return '_'
		case r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			return r
		}
		return -1
	}, route)
	if len(uid) == len("edgetel-")+len(route) && len(uid) <= maxUIDLen {
		return uid
	}
	sum := sha256.Sum256([]byte(route))
	h := hex.EncodeToString(sum[:4])
	return uid[:min(len(uid), maxUIDLen-len(h)-1)] + "-" + h
}

// budgetOf is 1 − target rounded to the precision config gives targets (ten decimals), so
// that 99.9% has a budget of 0.001 and not 0.0010000000000000009.
func budgetOf(target float64) float64 { return math.Round((1-target)*1e10) / 1e10 }

// formatFloat writes f in the shortest form that reads back as f.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
