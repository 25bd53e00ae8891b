package ui

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type badRow struct {
	Time, Ago, Method, Path, Status, Flags, Duration, Upstream, RequestID, TraceID string
	Why                                                                            string
	JaegerURL, ExploreURL                                                          string
	Sampled                                                                        bool
}

func (u *UI) badRows(route string) ([]badRow, string) {
	if u.cfg.BadRequests == nil {
		return nil, "This process keeps no bad requests: they come from the sink's access logs."
	}
	now := u.cfg.Now()
	var out []badRow
	for _, b := range u.cfg.BadRequests.RecentBad(route, maxBadShown) {
		r := badRow{Time: fmtTime(b.Time), Ago: fmtAgo(now, b.Time), Method: b.Method, Path: b.Path,
			Status: strconv.FormatUint(uint64(b.Status), 10), Flags: b.Flags.String(),
			Duration: fmtDur(b.Duration), Upstream: b.Upstream, RequestID: b.RequestID,
			TraceID: b.TraceID, Sampled: b.Sampled, Why: why(b)}
		if r.TraceID != "" {
			r.JaegerURL = u.jaegerTrace(b.TraceID)
			r.ExploreURL = u.exploreTrace(b.TraceID, b.Time)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, "No request of this route broke an objective recently."
	}
	return out, ""
}

func why(b BadRequest) string {
	var parts []string
	if b.Unavailable {
		parts = append(parts, "availability")
	}
	if b.SlowerThan > 0 {
		parts = append(parts, "slower than "+fmtDur(b.SlowerThan))
	}
	return strings.Join(parts, ", ")
}

// jaegerTrace is Jaeger UI's page of a trace; empty without JaegerURL.
func (u *UI) jaegerTrace(traceID string) string {
	if u.cfg.JaegerURL == "" {
		return ""
	}
	return strings.TrimSuffix(u.cfg.JaegerURL, "/") + "/trace/" + url.PathEscape(traceID)
}

// explore is Grafana Explore's URL state (schemaVersion 1): one pane querying the trace in
// the Jaeger data source, over half an hour around the request.
type explore struct {
	Datasource string            `json:"datasource"`
	Queries    []exploreQuery    `json:"queries"`
	Range      map[string]string `json:"range"`
}

type exploreQuery struct {
	RefID      string            `json:"refId"`
	Datasource map[string]string `json:"datasource"`
	QueryType  string            `json:"queryType"`
	Query      string            `json:"query"`
}

// exploreTrace is Grafana Explore showing the trace; empty without GrafanaURL.
func (u *UI) exploreTrace(traceID string, at time.Time) string {
	if u.cfg.GrafanaURL == "" {
		return ""
	}
	uid := u.cfg.GrafanaTracesUID
	pane := explore{
		Datasource: uid,
		Queries: []exploreQuery{{RefID: "A", Datasource: map[string]string{"type": "jaeger", "uid": uid},
			QueryType: "", Query: traceID}},
		Range: map[string]string{
			"from": strconv.FormatInt(at.Add(-15*time.Minute).UnixMilli(), 10),
			"to":   strconv.FormatInt(at.Add(15*time.Minute).UnixMilli(), 10),
		},
	}
	panes, _ := json.Marshal(map[string]explore{"trace": pane}) // maps marshal sorted: stable URLs
	return strings.TrimSuffix(u.cfg.GrafanaURL, "/") + "/explore?schemaVersion=1&panes=" +
		url.QueryEscape(string(panes)) + "&orgId=1"
}
