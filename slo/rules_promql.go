package slo

import (
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"github.com/prometheus/prometheus/promql/parser"
)

// exprTemplates build every PromQL expression of the rules. missingkey=error makes a
// template that names data its caller did not give fail instead of printing "<no value>";
// q quotes a label value as a PromQL string (Go's escapes, which PromQL shares).
var exprTemplates = template.Must(template.New("promql").
	Option("missingkey=error").
	Funcs(template.FuncMap{"q": strconv.Quote, "join": strings.Join}).
	Parse(`
{{- define "selector"}}{route={{q .route}}, objective={{q .objective}}}{{end}}

{{- define "rate"}}sum by (route, objective) (rate({{.metric}}{{.sel}}[{{.window}}])){{end}}

{{- define "errorRatio"}}1 - (
  sum by (route, objective) (rate(edgetel_slo_good_events_total{{.sel}}[{{.window}}]))
  /
  sum by (route, objective) (rate(edgetel_slo_events_total{{.sel}}[{{.window}}]))
){{end}}

{{- define "windowRatio"}}1 - (
  sum_over_time({{.good}}{{.sel}}[{{.window}}])
  /
  sum_over_time({{.events}}{{.sel}}[{{.window}}])
){{end}}

{{- define "burnRate"}}{{.ratio}}{{.sel}} / {{.budget}}{{end}}

{{- define "budgetRemaining"}}1 - {{.ratio}}{{.sel}} / {{.budget}}{{end}}

{{- define "alert"}}{{.long}}{{.sel}} > {{.factor}}
and on (route, objective)
{{.short}}{{.sel}} > {{.factor}}{{end}}

{{- define "condition"}}({{.long}}{{.sel}} > bool {{.factor}}) * ({{.short}}{{.sel}} > bool {{.factor}}){{end}}

{{- define "state"}}clamp_max(
  {{- if .page}}
  2 * (
      {{join .page "\n    + "}}
  ){{if .ticket}}
  +{{end}}{{end}}
  {{- if .ticket}}
  clamp_max(
      {{join .ticket "\n    + "}},
    1
  ){{end}},
  2
){{end}}
`))

// promQL executes the named expression template with data and parse-checks the result.
func promQL(name string, data map[string]any) (string, error) {
	var b strings.Builder
	if err := exprTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("%w: template %s: %w", ErrInvalidRule, name, err)
	}
	s := b.String()
	if name == "selector" {
		return s, nil // a selector's braces alone are not an expression
	}
	if _, err := parser.ParseExpr(s); err != nil {
		return "", fmt.Errorf("%w: %s does not parse: %w\n%s", ErrInvalidRule, name, err, s)
	}
	return s, nil
}

// annotationTemplates write the alerts' annotations. They are Prometheus's own templates
// ({{ $value }}, {{ query }}), so ours use [[ ]] to stay out of their way.
var annotationTemplates = template.Must(template.New("annotations").
	Option("missingkey=error").
	Delims("[[", "]]").
	Parse(`
[[- define "summary"]][[.route]] [[.objective]]: error budget burning at {{ printf "%.1f" $value }}× over [[.long]][[end]]

[[- define "description"]]Route [[.route]] is spending the error budget of its [[.objective]] objective ([[.target]] over [[.window]]) {{ printf "%.1f" $value }}× as fast as the [[.window]] window allows, over the last [[.long]] and still over the last [[.short]]. This [[.severity]] fires above [[.factor]]×: at that rate [[.share]] of the [[.window]] budget goes in [[.long]]. Budget left over [[.window]]: {{ with query ` + "`" + `100 * [[.budgetQuery]]` + "`" + ` }}{{ . | first | value | printf "%.1f" }}%{{ else }}unknown{{ end }}. Burn rate: [[.burnQuery]][[end]]
`))

// promTemplateStubs stand in for Prometheus's template functions when annotations are
// parse-checked here; promtool check rules checks them with the real ones.
var promTemplateStubs = template.FuncMap{
	"query": func(string) (any, error) { return nil, nil },
	"first": func(any) (any, error) { return nil, nil },
	"value": func(any) float64 { return 0 },
}

// annotation executes the named annotation template and checks that Prometheus can parse
// what it wrote, with the variables Prometheus defines for alert templates.
func annotation(name string, data map[string]any) (string, error) {
	var b strings.Builder
	if err := annotationTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("%w: annotation %s: %w", ErrInvalidRule, name, err)
	}
	s := b.String()
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}"
	if _, err := template.New(name).Funcs(promTemplateStubs).Parse(defs + s); err != nil {
		return "", fmt.Errorf("%w: annotation %s does not parse: %w", ErrInvalidRule, name, err)
	}
	return s, nil
}
