package dashboards

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/loki"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
)

// The data source variables every dashboard has, and the references its panels use.
const (
	varPrometheus = "prometheus"
	varLoki       = "loki"
	varJaeger     = "jaeger"
)

var (
	promDS = common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + varPrometheus + "}")}
	lokiDS = common.DataSourceRef{Type: ptr("loki"), Uid: ptr("${" + varLoki + "}")}
)

func datasourceVariables() []cog.Builder[dashboard.VariableModel] {
	v := func(name, label, plugin string) cog.Builder[dashboard.VariableModel] {
		return dashboard.NewDatasourceVariableBuilder(name).Label(label).Type(plugin)
	}
	return []cog.Builder[dashboard.VariableModel]{
		v(varPrometheus, "Prometheus", "prometheus"),
		v(varLoki, "Loki", "loki"),
		v(varJaeger, "Jaeger", "jaeger"),
	}
}

// RateInterval is the Grafana macro the queries take rate() over; a test that runs them
// against Prometheus replaces it with a duration.
const RateInterval = "$__rate_interval"

// queryTemplates build the queries; missingkey=error as in package slo.
var queryTemplates = template.Must(template.New("queries").
	Option("missingkey=error").
	Funcs(template.FuncMap{"q": strconv.Quote}).
	Parse(`
{{- define "route"}}{route={{q .route}}}{{end}}
{{- define "requests"}}sum by (code_class) (rate(edgetel_requests_total{{.sel}}[$__rate_interval])){{end}}
{{- define "bad"}}sum by (objective) (rate(edgetel_slo_events_total{{.sel}}[$__rate_interval]))
-
sum by (objective) (rate(edgetel_slo_good_events_total{{.sel}}[$__rate_interval])){{end}}
{{- define "quantile"}}histogram_quantile({{.q}},
  sum by (le) (rate(edgetel_request_duration_seconds_bucket{{.sel}}[$__rate_interval]))
  or
  sum(rate(edgetel_request_duration_seconds{{.sel}}[$__rate_interval]))
){{end}}
{{- define "series"}}{{.name}}{{.sel}}{{end}}
{{- define "envoy"}}sum(rate({{.metric}}{cluster={{q .cluster}}{{.match}}}[$__rate_interval])){{end}}
{{- define "completeness"}}sum(rate(edgetel_access_log_entries_total{cluster={{q .cluster}},upstream="sent"}[$__rate_interval]))
/
(sum(rate(edgetel_envoy_cluster_upstream_rq_total{cluster={{q .cluster}}}[$__rate_interval]))
  - sum(rate(edgetel_envoy_cluster_upstream_rq_retry_total{cluster={{q .cluster}}}[$__rate_interval]))){{end}}
{{- define "count"}}count({{.name}} {{.cmp}}) or vector(0){{end}}
`))

// panels hands out panel IDs in order and collects the errors of the queries it builds.
type panels struct {
	id   uint32
	errs []error
}

func (p *panels) next() uint32 { p.id++; return p.id }

// row starts a row; rows are panels too and need IDs of their own.
func (p *panels) row(title string) *dashboard.RowBuilder {
	return dashboard.NewRowBuilder(title).Id(p.next())
}

func (p *panels) err() error { return errors.Join(p.errs...) }

// promQL executes a query template and parse-checks the result, the Grafana macro
// replaced by a duration.
func (p *panels) promQL(name string, data map[string]any) string {
	var b strings.Builder
	if err := queryTemplates.ExecuteTemplate(&b, name, data); err != nil {
		p.errs = append(p.errs, fmt.Errorf("query %s: %w", name, err))
		return ""
	}
	s := b.String()
	if name != "route" {
		if _, err := parser.ParseExpr(strings.ReplaceAll(s, RateInterval, "5m")); err != nil {
			p.errs = append(p.errs, fmt.Errorf("query %s does not parse: %w\n%s", name, err, s))
		}
	}
	return s
}

// logQL is a Loki stream selector, which has PromQL's selector syntax.
func (p *panels) logQL(sel string) string {
	if _, err := parser.ParseMetricSelector(sel); err != nil {
		p.errs = append(p.errs, fmt.Errorf("stream selector %s: %w", sel, err))
	}
	return sel
}

func prom(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Expr(expr).LegendFormat(legend)
}

// instant is a table-format instant query, one row per series, for tables and stats.
func instant(ref, expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Expr(expr).Instant().
		Format(prometheus.PromQueryFormatTable)
}

func lokiQuery(ref, expr string) *loki.DataqueryBuilder {
	return loki.NewDataqueryBuilder().RefId(ref).Expr(expr)
}

// step is a threshold: from value up, color.
type step struct {
	value float64
	color string
}

// thresholds are absolute steps above a base color, in ascending order.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	out := []dashboard.Threshold{{Color: base}}
	for _, s := range steps {
		out = append(out, dashboard.Threshold{Value: ptr(s.value), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(out)
}

// stateMappings show the recorded burn state as the alerts' words.
func stateMappings() []dashboard.ValueMapping {
	res := func(text, color string, i int32) dashboard.ValueMappingResult {
		return dashboard.ValueMappingResult{Text: ptr(text), Color: ptr(color), Index: ptr(i)}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": res("ok", "green", 0), "1": res("ticket", "orange", 1), "2": res("page", "red", 2),
		},
	}}}
}

// dataLink is a field link, as Grafana's field config "links" holds them.
type dataLink struct {
	Title       string `json:"title"`
	URL         string `json:"url"`
	TargetBlank bool   `json:"targetBlank,omitempty"`
}

func ptr[T any](v T) *T { return &v }
