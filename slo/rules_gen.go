package slo

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/edgetel/edgetel/model"
)

// objectiveSpec is what the generators read of one route objective.
type objectiveSpec struct {
	route  string
	obj    model.Objective
	window time.Duration // the SLO window
	budget string        // 1 − target, as written in the rules
	pairs  []AlertPair
	sel    string // {route="…", objective="…"}
}

func newObjectiveSpec(r *model.Route, o model.Objective) objectiveSpec {
	w := sloWindowOf(r.SLO.Window)
	s := objectiveSpec{route: r.Name, obj: o, window: w, budget: formatFloat(budgetOf(o.Target)),
		pairs: AlertPairs(w)}
	// A selector of two quoted strings cannot fail to render.
	s.sel, _ = promQL("selector", map[string]any{"route": r.Name, "objective": o.Name})
	return s
}

// windowRatioRecord is the error ratio over the SLO window: one of the fixed windows' when
// the SLO window is one of them, else its own.
func (s *objectiveSpec) windowRatioRecord() string { return ErrorRatioRecord(s.window) }

// ownWindowRatio reports whether the SLO window needs a ratio rule of its own.
func (s *objectiveSpec) ownWindowRatio() bool { return !slices.Contains(Windows[:], s.window) }

// burnRules are the objective's rules evaluated at Prometheus's interval: the 5m event
// rates that the SLO window sums, the error ratio and burn rate over every window, the burn
// state and the alerts, in the order they depend on one another.
func burnRules(s objectiveSpec, o RuleOptions) ([]Rule, error) {
	var out []Rule
	var errs []error
	add := func(r Rule, err error) {
		out = append(out, r)
		errs = append(errs, err)
	}
	add(record(RecordEventsRate5m, "rate", map[string]any{"metric": "edgetel_slo_events_total", "sel": s.sel, "window": "5m"}))
	add(record(RecordGoodRate5m, "rate", map[string]any{"metric": "edgetel_slo_good_events_total", "sel": s.sel, "window": "5m"}))
	for _, w := range Windows {
		add(record(ErrorRatioRecord(w), "errorRatio", map[string]any{"sel": s.sel, "window": PromDuration(w)}))
	}
	for _, w := range Windows {
		add(record(BurnRateRecord(w), "burnRate", map[string]any{"ratio": ErrorRatioRecord(w), "sel": s.sel, "budget": s.budget}))
	}
	if len(s.pairs) > 0 {
		add(stateRule(s))
	}
	for _, p := range s.pairs {
		add(alertRule(s, p, o))
	}
	s.label(out)
	return out, wrapRoute(s, errors.Join(errs...))
}

// label gives every rule the labels its expression yields anyway, route and objective, so
// that rules of different objectives in one group differ by more than their expression
// (promtool check rules reports rules of the same name and labels as duplicates).
func (s *objectiveSpec) label(rules []Rule) {
	for i := range rules {
		if rules[i].Labels == nil {
			rules[i].Labels = map[string]string{}
		}
		rules[i].Labels["route"] = s.route
		rules[i].Labels["objective"] = s.obj.Name
	}
}

// budgetRules are the objective's SLO-window rules. The error ratio over a window as long
// as 28d is not rate() over 28d, which would read every raw sample of the window at each
// evaluation: like Sloth and Pyrra, it sums the recorded 5m rates over the window. Unlike
// Sloth's average of the 5m error ratios, it sums good and total rates apart and divides
// once, so that the ratio is weighted by traffic and a quiet 5m (a NaN ratio) cannot make
// the whole window NaN.
func budgetRules(s objectiveSpec) ([]Rule, error) {
	var out []Rule
	var errs []error
	if s.ownWindowRatio() {
		r, err := record(s.windowRatioRecord(), "windowRatio", map[string]any{
			"good": RecordGoodRate5m, "events": RecordEventsRate5m, "sel": s.sel, "window": PromDuration(s.window)})
		out, errs = append(out, r), append(errs, err)
	}
	r, err := record(RecordBudgetRemaining, "budgetRemaining", map[string]any{
		"ratio": s.windowRatioRecord(), "sel": s.sel, "budget": s.budget})
	out, errs = append(out, r), append(errs, err)
	s.label(out)
	return out, wrapRoute(s, errors.Join(errs...))
}

func record(name, tmpl string, data map[string]any) (Rule, error) {
	expr, err := promQL(tmpl, data)
	return Rule{Record: name, Expr: expr}, err
}

// stateRule records 2 while a page alert's condition holds, else 1 while a ticket's does,
// else 0, so that dashboards show the alerts' verdict by the alerts' own thresholds. A NaN
// burn rate (no traffic) compares false: state 0.
func stateRule(s objectiveSpec) (Rule, error) {
	var page, ticket []string
	for _, p := range s.pairs {
		c, err := promQL("condition", pairData(s, p))
		if err != nil {
			return Rule{}, err
		}
		if p.Severity == SeverityPage {
			page = append(page, c)
		} else {
			ticket = append(ticket, c)
		}
	}
	return record(RecordBurnState, "state", map[string]any{"page": page, "ticket": ticket})
}

func pairData(s objectiveSpec, p AlertPair) map[string]any {
	return map[string]any{"long": BurnRateRecord(p.Long), "short": BurnRateRecord(p.Short),
		"sel": s.sel, "factor": formatFloat(p.Factor)}
}

// alertRule fires while the burn rate exceeds the pair's factor over both its windows.
// There is no "for": the short window already keeps a blip from alerting, and "for" would
// only delay the page past the time the workbook's table is built on. $value is the
// long window's burn rate.
func alertRule(s objectiveSpec, p AlertPair, o RuleOptions) (Rule, error) {
	expr, err := promQL("alert", pairData(s, p))
	if err != nil {
		return Rule{}, err
	}
	ann, err := annotations(s, p, o)
	return Rule{
		Alert: AlertName,
		Expr:  expr,
		Labels: map[string]string{"severity": string(p.Severity),
			"long_window": PromDuration(p.Long), "short_window": PromDuration(p.Short)},
		Annotations: ann,
	}, err
}

func annotations(s objectiveSpec, p AlertPair, o RuleOptions) (map[string]string, error) {
	data := map[string]any{
		"route": s.route, "objective": s.obj.Name, "target": targetText(s.obj),
		"window": PromDuration(s.window), "long": PromDuration(p.Long), "short": PromDuration(p.Short),
		"severity": string(p.Severity), "factor": formatFloat(p.Factor),
		"share":       formatFloat(p.BudgetShare*100) + "%",
		"budgetQuery": RecordBudgetRemaining + s.sel,
		"burnQuery":   BurnRateRecord(p.Long) + s.sel,
	}
	summary, err1 := annotation("summary", data)
	description, err2 := annotation("description", data)
	dash := fmt.Sprintf("%s/d/%s?from=now-%s&to=now", o.GrafanaURL, RouteDashboardUID(s.route), PromDuration(p.Long))
	return map[string]string{
		"summary":       summary,
		"description":   description,
		"runbook_url":   o.RunbookURL + "#" + string(p.Severity),
		"dashboard_url": dash,
	}, errors.Join(err1, err2)
}

// targetText says what the objective promises: "99.9% of requests good" or "99% of
// requests within 300ms".
func targetText(o model.Objective) string {
	pct := formatFloat(math.Round(o.Target*1e10)/1e8) + "%"
	if o.Indicator == model.Latency {
		return pct + " of requests within " + o.Threshold.String()
	}
	return pct + " of requests good"
}

func wrapRoute(s objectiveSpec, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("route %s objective %s: %w", s.route, s.obj.Name, err)
}
