package slo

// Rule generation: the Prometheus recording and alerting rules of every route objective,
// generated from the model as the sink's own burn rates are, so that what Prometheus alerts
// on and what the sink shows are the same quantities.
//
// Every rule works on the sink's counters summed across sink replicas, per route and
// objective: sum by (route, objective) (rate(edgetel_slo_good_events_total[w])) over the same
// of edgetel_slo_events_total. A ratio is never taken per replica, so the rules stay right
// when the sink scales out and each replica sees a different share of the errors.
//
// No traffic: over a window without requests the error ratio is 0/0, NaN, and so is the
// burn rate. NaN compares false, so no alert fires and the burn state is 0; an alert stops
// once its short window has seen no request (a route that stops getting traffic stops
// paging within 5m). Budget remaining is NaN only if the whole SLO window had no request.
// Where the counters are missing altogether (no sink scraped) there are no series and no
// alert: that is for an alert on up{}, not on the SLO.

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edgetel/edgetel/model"
)

// ErrInvalidRule is wrapped by every error of the rule generators: an expression that does
// not parse, which would be a bug here, never a problem of the policies.
var ErrInvalidRule = errors.New("slo: invalid generated rule")

// Defaults of RuleOptions.
const (
	DefaultRunbookURL     = "https://github.com/edgetel/edgetel/blob/main/docs/runbooks/slo-burn-rate.md"
	DefaultGrafanaURL     = "http://localhost:3000"
	DefaultBudgetInterval = 150 * time.Second
)

// RuleOptions configure the generated rules. The zero value takes every default.
type RuleOptions struct {
	// RunbookURL is the page the alerts' runbook_url points at; "#page" or "#ticket" is
	// appended. Default DefaultRunbookURL.
	RunbookURL string
	// GrafanaURL is Grafana's base URL: dashboard_url is the route's dashboard there.
	// Default DefaultGrafanaURL.
	GrafanaURL string
	// BudgetInterval is how often the SLO-window group is evaluated. Its error ratio sums a
	// whole SLO window of samples (~80,000 per series for 28d at 30s), and the budget moves
	// slowly, so it need not run as often as the burn rates. It stays well under the 5m
	// lookback of instant queries, so that its series never go stale between evaluations.
	// Default 2m30s.
	BudgetInterval time.Duration
}

func (o RuleOptions) withDefaults() RuleOptions {
	if o.RunbookURL == "" {
		o.RunbookURL = DefaultRunbookURL
	}
	if o.GrafanaURL == "" {
		o.GrafanaURL = DefaultGrafanaURL
	}
	if o.BudgetInterval <= 0 {
		o.BudgetInterval = DefaultBudgetInterval
	}
	return o
}

// RuleFile is a Prometheus rule file: its YAML is what rule_files loads.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is a group of rules evaluated in order at one interval.
type RuleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is a recording rule (Record set) or an alerting rule (Alert set).
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Rules generates the rules of every route objective of e: per route, one group of
// recordings and alerts evaluated at Prometheus's interval, and one for the SLO window
// evaluated every BudgetInterval. Routes come in model order, so the output is
// deterministic. Every expression is parse-checked.
func Rules(e *model.Edge, o RuleOptions) (*RuleFile, error) {
	o = o.withDefaults()
	f := &RuleFile{Groups: []RuleGroup{}}
	var errs []error
	for i := range e.Routes {
		r := &e.Routes[i]
		if r.SLO == nil || len(r.SLO.Objectives) == 0 {
			continue
		}
		burn := RuleGroup{Name: "edgetel-slo:" + r.Name}
		budget := RuleGroup{Name: "edgetel-slo-budget:" + r.Name, Interval: promInterval(o.BudgetInterval)}
		for _, obj := range r.SLO.Objectives {
			s := newObjectiveSpec(r, obj)
			rules, err := burnRules(s, o)
			burn.Rules = append(burn.Rules, rules...)
			errs = append(errs, err)
			rules, err = budgetRules(s)
			budget.Rules = append(budget.Rules, rules...)
			errs = append(errs, err)
		}
		f.Groups = append(f.Groups, burn, budget)
	}
	return f, errors.Join(errs...)
}

// YAML is the rule file as Prometheus loads it.
func (f *RuleFile) YAML() ([]byte, error) { return marshalYAML(f) }

// PrometheusRuleMeta names the PrometheusRule object.
type PrometheusRuleMeta struct {
	Name      string // default "edgetel-slo"
	Namespace string // omitted when empty: kubectl's current namespace
	// Labels select the object for a Prometheus (its ruleSelector), e.g. release: prometheus.
	Labels map[string]string
}

// PrometheusRule is the rule file as a prometheus-operator PrometheusRule object
// (monitoring.coreos.com/v1), plain YAML that needs no operator library.
func (f *RuleFile) PrometheusRule(m PrometheusRuleMeta) ([]byte, error) {
	if m.Name == "" {
		m.Name = "edgetel-slo"
	}
	type meta struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace,omitempty"`
		Labels    map[string]string `yaml:"labels,omitempty"`
	}
	obj := struct {
		APIVersion string    `yaml:"apiVersion"`
		Kind       string    `yaml:"kind"`
		Metadata   meta      `yaml:"metadata"`
		Spec       *RuleFile `yaml:"spec"`
	}{"monitoring.coreos.com/v1", "PrometheusRule", meta{m.Name, m.Namespace, m.Labels}, f}
	return marshalYAML(obj)
}

// Exprs returns every expression of the file, for checks.
func (f *RuleFile) Exprs() []string {
	var out []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out = append(out, r.Expr)
		}
	}
	return out
}

// marshalYAML writes v with two-space indents; yaml.v3 keeps struct field order and sorts
// map keys, so the output is deterministic, and writes multi-line expressions as blocks.
func marshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("slo: encode rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("slo: encode rules: %w", err)
	}
	return b.Bytes(), nil
}
