package ui

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgetel/edgetel/config"
)

// pipelineGroups title the families by name prefix, in the order data flows. Families under
// none of them still show, under their own second word: the page shows what exists, so a
// new exporter's counters appear without a change here.
var pipelineGroups = []struct{ prefix, title string }{
	{"edgetel_als_", "Access logs in (Envoy ALS)"},
	{"edgetel_envoy_stats_", "Envoy stats in (metrics service)"},
	{"edgetel_tracing_", "Spans in (OTLP)"},
	{"edgetel_join_", "Join of access logs and spans"},
	{"edgetel_access_log_", "Access-log completeness"},
	{"edgetel_slo_unknown_route_", "SLI accounting"},
	{"edgetel_config_", "Policies"},
	{"edgetel_xds_", "xDS to Envoy"},
}

// routeFamilies are per-route or per-cluster series, shown on the overview and route pages
// rather than here.
var routeFamilies = []string{"edgetel_slo_", "edgetel_request", "edgetel_envoy_cluster_", "edgetel_route_cluster_info"}

// lossWords mark the counters that say data was lost or refused: non-zero, they are
// highlighted, because "say clearly what it dropped" is the point of the page.
var lossWords = []string{"dropped", "malformed", "rejected", "refused", "evicted", "lost", "failed"}

// configFamilies are about policies, not telemetry: left out of the overview's count of lost
// data, shown on the pipeline page and the config page.
var configFamilies = []string{"edgetel_config_", "edgetel_xds_"}

type pipelinePage struct {
	NoMetrics bool
	Groups    []familyGroup
}

type familyGroup struct {
	Title    string
	Families []familyView
}

type familyView struct {
	Name, Help, Type string
	Samples          []sampleView
}

type sampleView struct {
	Labels, Value string
	Loss          bool
}

func (u *UI) servePipeline(w http.ResponseWriter, _ *http.Request) {
	u.render(w, "pipeline", "Pipeline", u.pipeline())
}

func (u *UI) pipeline() pipelinePage {
	fams, ok := u.gather()
	if !ok {
		return pipelinePage{NoMetrics: true}
	}
	byTitle := map[string]*familyGroup{}
	var order []string
	for _, f := range fams {
		name := f.GetName()
		if !isPipelineFamily(name) {
			continue
		}
		title := groupTitle(name)
		g := byTitle[title]
		if g == nil {
			g = &familyGroup{Title: title}
			byTitle[title] = g
			order = append(order, title)
		}
		g.Families = append(g.Families, familyOf(f, nil))
	}
	sort.SliceStable(order, func(i, j int) bool { return groupRank(order[i]) < groupRank(order[j]) })
	p := pipelinePage{}
	for _, t := range order {
		p.Groups = append(p.Groups, *byTitle[t])
	}
	return p
}

// isPipelineFamily: one of edgetel's own families that is not about one route or cluster.
func isPipelineFamily(name string) bool {
	for _, g := range pipelineGroups {
		if strings.HasPrefix(name, g.prefix) {
			return true
		}
	}
	return strings.HasPrefix(name, "edgetel_") && !hasAnyPrefix(name, routeFamilies)
}

func groupTitle(name string) string {
	for _, g := range pipelineGroups {
		if strings.HasPrefix(name, g.prefix) {
			return g.title
		}
	}
	word, _, _ := strings.Cut(strings.TrimPrefix(name, "edgetel_"), "_")
	return "Other: " + word
}

func groupRank(title string) int {
	for i, g := range pipelineGroups {
		if g.title == title {
			return i
		}
	}
	return len(pipelineGroups) // the others after, in name order (Gather sorts)
}

// gather reads the Gatherer; false without one. A partial failure still returns what was
// gathered, as /metrics (ContinueOnError) shows it.
func (u *UI) gather() ([]*dto.MetricFamily, bool) {
	if u.cfg.Metrics == nil {
		return nil, false
	}
	fams, err := u.cfg.Metrics.Gather()
	if err != nil {
		u.cfg.Logger.Warn("status page: gathering metrics", "err", err)
	}
	return fams, true
}

// familyOf shows a family's samples whose labels include match; match's labels are left out
// of the shown label set, being the same on every sample.
func familyOf(f *dto.MetricFamily, match map[string]string) familyView {
	v := familyView{Name: f.GetName(), Help: f.GetHelp(), Type: strings.ToLower(f.GetType().String())}
	loss := hasAnyWord(v.Name, lossWords)
	for _, m := range f.Metric {
		if !labelsMatch(m, match) {
			continue
		}
		val := value(m)
		v.Samples = append(v.Samples, sampleView{Labels: labelText(m, match), Value: fmtNum(val),
			Loss: loss && val > 0 && v.Type == "counter"})
	}
	return v
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	n := 0
	for _, lp := range m.Label {
		if want, ok := match[lp.GetName()]; ok {
			if want != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(match)
}

func labelText(m *dto.Metric, skip map[string]string) string {
	var parts []string
	for _, lp := range m.Label {
		if _, ok := skip[lp.GetName()]; !ok {
			parts = append(parts, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
		}
	}
	return strings.Join(parts, ", ")
}

// value is a sample's value: the count for a histogram or summary.
func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Summary != nil:
		return float64(m.Summary.GetSampleCount())
	}
	return 0
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func hasAnyWord(name string, words []string) bool {
	for _, w := range words {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// headlineTiles are the overview's numbers about the routes' context: config and pipeline.
func (u *UI) headlineTiles() []tile {
	var out []tile
	if u.cfg.Policies != nil {
		out = append(out, configTile(u.cfg.Policies.State()))
	}
	fams, ok := u.gather()
	if !ok {
		return out
	}
	var received, lost float64
	for _, f := range fams {
		name := f.GetName()
		if name == "edgetel_als_entries_received_total" {
			for _, m := range f.Metric {
				received += value(m)
			}
		}
		if isPipelineFamily(name) && f.GetType() == dto.MetricType_COUNTER &&
			hasAnyWord(name, lossWords) && !hasAnyPrefix(name, configFamilies) {
			for _, m := range f.Metric {
				lost += value(m)
			}
		}
	}
	out = append(out, tile{Label: "Access-log entries received", Value: fmtNum(received), Href: "/pipeline"})
	t := tile{Label: "Dropped, malformed or rejected", Value: fmtNum(lost), Href: "/pipeline",
		Note: "every item the pipeline lost or refused, any stage"}
	if lost > 0 {
		t.Class = "warn"
	}
	return append(out, t)
}

func configTile(st config.State) tile {
	var rejected, stale int
	for _, v := range st.Verdicts {
		switch {
		case v.Stale:
			stale++
		case !v.Accepted:
			rejected++
		}
	}
	t := tile{Label: "Policies", Value: strconv.Itoa(len(st.Verdicts)-rejected-stale) + " in force",
		Href: "/config", Note: "generation " + strconv.FormatUint(st.Generation, 10)}
	if rejected+stale > 0 || st.SourceErr != nil || st.RefusedErr != nil {
		t.Class = "warn"
		t.Note = strconv.Itoa(rejected) + " rejected, " + strconv.Itoa(stale) + " stale"
		if st.SourceErr != nil || st.RefusedErr != nil {
			t.Note += "; errors: see Config"
		}
	}
	return t
}
