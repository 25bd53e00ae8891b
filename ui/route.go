package ui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

// maxBadShown is how many bad requests the route page lists.
const maxBadShown = 25

type routePage struct {
	Name, NotFound string
	State          State
	Info           *routeInfo
	Requests       uint64
	Classes        []classCount
	Since          string
	Windows        []string
	Objectives     []objDetail
	Charts         []chart
	Span           string
	Bad            []badRow
	BadNote        string
	Cluster        string
	ClusterShared  string
	ClusterStats   []familyView
	ClusterNote    string
	DashboardURL   string
}

type routeInfo struct {
	Hosts, Match, Backend, Timeout, Retries, Sampling, Source string
}

type classCount struct {
	Class string
	N     uint64
}

type objDetail struct {
	objRow
	Bad       uint64
	SLI       string
	Since     string
	BudgetPct string
}

func (u *UI) serveRoute(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("route")
	p := u.routePage(name)
	if p.NotFound != "" {
		w.WriteHeader(http.StatusNotFound)
	}
	u.render(w, "route", name, p)
}

func (u *UI) routePage(name string) routePage {
	p := routePage{Name: name, State: StateOK, Span: fmtWindow(u.cfg.History)}
	for _, w := range slo.Windows {
		p.Windows = append(p.Windows, fmtWindow(w))
	}
	var mr *model.Route
	var edge *model.Edge
	if u.cfg.Policies != nil {
		if edge = u.cfg.Policies.State().Edge; edge != nil {
			mr = edge.Route(name)
		}
	}
	rs := u.status(name)
	if rs == nil && mr == nil {
		p.NotFound = "No route " + strconv.Quote(name) + " is in force."
		return p
	}
	now := u.cfg.Now()
	if mr != nil {
		p.Info = infoOf(mr)
		p.Cluster = mr.Backend.Cluster
		p.ClusterShared = sharing(edge, mr)
		p.ClusterStats, p.ClusterNote = u.clusterStats(p.Cluster)
	}
	if u.cfg.GrafanaURL != "" && name != model.UnmatchedRoute {
		p.DashboardURL = strings.TrimSuffix(u.cfg.GrafanaURL, "/") + "/d/" + slo.RouteDashboardUID(name)
	}
	if rs != nil {
		u.fillStatus(&p, rs, now)
	}
	p.Bad, p.BadNote = u.badRows(name)
	return p
}

func (u *UI) status(name string) *slo.RouteStatus {
	if u.cfg.Status == nil {
		return nil
	}
	for _, rs := range u.cfg.Status.Status() {
		if rs.Route == name {
			return &rs
		}
	}
	return nil
}

func (u *UI) fillStatus(p *routePage, rs *slo.RouteStatus, now time.Time) {
	p.Since = fmtTime(rs.Since)
	for i, c := range rs.Requests {
		p.Requests += c
		if c > 0 {
			p.Classes = append(p.Classes, classCount{Class: slo.CodeClasses[i], N: c})
		}
	}
	for j := range rs.Objectives {
		o := &rs.Objectives[j]
		d := objDetail{objRow: objectiveRow(rs.Window, o, now), Bad: o.Events - o.Good,
			Since: fmtTime(o.Since), SLI: "–"}
		if o.Events > 0 {
			d.SLI = fmtPct(float64(o.Good) / float64(o.Events))
		}
		p.State = worst(p.State, d.State)
		p.Objectives = append(p.Objectives, d)
	}
	samples, names := u.hist.series(rs.Route)
	from, to := u.span(now, samples)
	p.Span = fmtSpan(time.Duration(to - from))
	p.Charts = routeCharts(rs, samples, names, from, to)
}

func infoOf(r *model.Route) *routeInfo {
	in := &routeInfo{Hosts: "every host", Timeout: "Envoy's default", Retries: "none",
		Sampling: strconv.FormatFloat(r.SamplingPercent, 'g', -1, 64) + "%", Source: r.Source.String()}
	if len(r.Hosts) > 0 {
		in.Hosts = strings.Join(r.Hosts, ", ")
	}
	switch m := r.Match; {
	case m.Prefix != "":
		in.Match = "prefix " + m.Prefix
	case m.Path != "":
		in.Match = "path " + m.Path
	case m.Regex != "":
		in.Match = "regex " + m.Regex
	}
	if len(r.Match.Methods) > 0 {
		in.Match += " (" + strings.Join(r.Match.Methods, ", ") + ")"
	}
	b := r.Backend
	in.Backend = b.Host + ":" + strconv.FormatUint(uint64(b.Port), 10)
	if b.IsKubernetes() {
		in.Backend = "Service " + r.Namespace + "/" + b.Service + ":" + strconv.FormatUint(uint64(b.Port), 10)
	}
	if r.Timeout > 0 {
		in.Timeout = r.Timeout.String()
	}
	if rt := r.Retries; rt != nil {
		in.Retries = strconv.FormatUint(uint64(rt.Attempts), 10) + " on " + strings.Join(rt.On, ", ")
	}
	return in
}

// sharing names the other routes of r's cluster: Envoy counts per cluster, not per route.
func sharing(e *model.Edge, r *model.Route) string {
	var others []string
	for _, o := range e.Routes {
		if o.Name != r.Name && o.Backend.Cluster == r.Backend.Cluster {
			others = append(others, o.Name)
		}
	}
	return strings.Join(others, ", ")
}

// clusterFamilies are the Envoy stats of a cluster (package metrics) the route page shows.
var clusterFamilies = []string{"edgetel_envoy_cluster_", "edgetel_access_log_entries_total",
	"edgetel_access_log_completeness_ratio"}

func (u *UI) clusterStats(cluster string) ([]familyView, string) {
	fams, ok := u.gather()
	if !ok {
		return nil, "This process has no metrics registry to read Envoy's stats from."
	}
	match := map[string]string{"cluster": cluster}
	var out []familyView
	for _, f := range fams {
		if hasAnyPrefix(f.GetName(), clusterFamilies) {
			if v := familyOf(f, match); len(v.Samples) > 0 {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		return nil, "No edgetel_envoy_cluster_* series for this cluster: Envoy's stats reach the " +
			"sink over the metrics service, every 10 s once a node streams them."
	}
	return out, ""
}
