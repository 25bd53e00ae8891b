// Package dashboards generates edgetel's Grafana dashboards from the model: an overview of
// every route's SLOs, and one dashboard per route with its traffic, latency (exemplars
// linked to Jaeger), burn rates, budget, its cluster's Envoy stats and its access logs in
// Loki. They read the sink's metrics (docs/metrics.md) and the series that package slo's
// rules record, by the names package slo exports, so they can only drift apart loudly.
//
// Data sources are dashboard variables (prometheus, loki, jaeger) rather than fixed UIDs,
// so the same JSON imports into any Grafana. Output is deterministic: panels come in model
// order with fixed IDs and positions, and encoding/json sorts every map.
package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/loki"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/edgetel/edgetel/model"
)

// ErrInvalidDashboard is wrapped by every generator error: a query that does not parse or a
// panel the SDK refuses, which would be a bug here, never a problem of the policies.
var ErrInvalidDashboard = errors.New("dashboards: invalid generated dashboard")

// Options configure the dashboards. The zero value takes every default.
type Options struct {
	// Tags are added to every dashboard's tags (which always include "edgetel").
	Tags []string
	// Refresh is the auto-refresh interval; default "30s".
	Refresh string
}

func (o Options) withDefaults() Options {
	if o.Refresh == "" {
		o.Refresh = "30s"
	}
	return o
}

// Dashboard is one generated dashboard.
type Dashboard struct {
	UID, Title string
	// Model is the dashboard as the Grafana Foundation SDK built it.
	Model dashboard.Dashboard
}

// JSON is the dashboard as Grafana imports it, indented; the same model always gives the
// same bytes.
func (d Dashboard) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep PromQL's > and & readable
	if err := enc.Encode(d.Model); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidDashboard, d.UID, err)
	}
	return b.Bytes(), nil
}

// Generate returns the overview and then one dashboard per route, in model order.
func Generate(e *model.Edge, o Options) ([]Dashboard, error) {
	o = o.withDefaults()
	out := make([]Dashboard, 0, len(e.Routes)+1)
	ov, err := Overview(e, o)
	if err != nil {
		return nil, err
	}
	out = append(out, ov)
	for i := range e.Routes {
		d, err := Route(e, &e.Routes[i], o)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// build finishes a dashboard: the builder's errors and the queries' go together.
func build(uid, title string, b *dashboard.DashboardBuilder, p *panels) (Dashboard, error) {
	m, err := b.Build()
	if err = errors.Join(err, p.err()); err != nil {
		return Dashboard{}, fmt.Errorf("%w: %s: %w", ErrInvalidDashboard, uid, err)
	}
	return Dashboard{UID: uid, Title: title, Model: m}, nil
}

// newDashboard starts a dashboard with edgetel's tags, refresh and data source variables.
func newDashboard(uid, title string, tags []string, o Options) *dashboard.DashboardBuilder {
	all := append([]string{"edgetel"}, tags...)
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Tags(append(all, o.Tags...)).
		Refresh(o.Refresh).
		Time("now-6h", "now").
		Timezone("browser").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Readonly()
	for _, v := range datasourceVariables() {
		b.WithVariable(v)
	}
	return b
}

// Query is one query of a dashboard's panels.
type Query struct {
	Panel, RefID string
	// Datasource is the plugin type, "prometheus" or "loki".
	Datasource string
	Expr       string
	// Exemplars reports that the panel shows the query's exemplars.
	Exemplars bool
}

// Queries lists every query of the dashboard in panel order: for checks, and for a test
// that runs them against a real Prometheus.
func (d Dashboard) Queries() []Query {
	var out []Query
	for _, pr := range d.Model.Panels {
		if pr.Panel == nil {
			continue
		}
		for _, t := range pr.Panel.Targets {
			switch q := t.(type) {
			case prometheus.Dataquery:
				out = append(out, Query{Panel: deref(pr.Panel.Title), RefID: deref(q.RefId), Datasource: "prometheus",
					Expr: q.Expr, Exemplars: deref(q.Exemplar)})
			case loki.Dataquery:
				out = append(out, Query{Panel: deref(pr.Panel.Title), RefID: deref(q.RefId), Datasource: "loki", Expr: q.Expr})
			}
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
