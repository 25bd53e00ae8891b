package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
)

// Schema says where a pipeline's exposition keeps the per-route counts: both sides export
// a request counter, a 5xx count and a duration histogram (seconds) by route.
type Schema struct {
	RouteLabel string
	Requests   string // counter family
	// Errors is a counter family of 5xx responses; empty when Requests has a code_class
	// label instead (edgetel: code_class="5xx").
	Errors    string
	Histogram string // histogram family, seconds
	// Good is edgetel's SLO good-events family, checked for availability; empty for none.
	Good string
	// Drops are the families whose sum is what the pipeline says it dropped.
	Drops []string
}

// EdgetelSchema is what `edgetel sink` exports (docs/metrics.md).
var EdgetelSchema = Schema{
	RouteLabel: "route", Requests: "edgetel_requests_total", Histogram: "edgetel_request_duration_seconds",
	Good: "edgetel_slo_good_events_total",
	Drops: []string{"edgetel_als_entries_dropped_total", "edgetel_otlp_logs_records_dropped_total",
		"edgetel_otlp_logs_records_rejected_total"},
}

// RouteCounts is what an exposition says of one route.
type RouteCounts struct {
	Requests, Status5xx uint64
	// Buckets are the duration histogram's cumulative counts by upper bound (seconds);
	// Count is its count.
	Buckets map[float64]uint64
	Count   uint64
	// Good is edgetel's good events by objective.
	Good map[string]uint64
}

// Counts is one scrape of a pipeline.
type Counts struct {
	Routes map[string]RouteCounts
	Drops  uint64
}

// Total is the requests over every route.
func (c Counts) Total() uint64 {
	var n uint64
	for _, r := range c.Routes {
		n += r.Requests
	}
	return n
}

// Scrape reads url's exposition (text format) and picks out s's counts.
func Scrape(ctx context.Context, url string, s Schema) (Counts, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Counts{}, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Counts{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Counts{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return Counts{}, fmt.Errorf("parsing %s: %w", url, err)
	}
	return s.counts(fams), nil
}

func (s Schema) counts(fams map[string]*dto.MetricFamily) Counts {
	c := Counts{Routes: map[string]RouteCounts{}}
	at := func(m *dto.Metric) (string, RouteCounts) {
		r := label(m, s.RouteLabel)
		rc := c.Routes[r]
		if rc.Buckets == nil {
			rc.Buckets, rc.Good = map[float64]uint64{}, map[string]uint64{}
		}
		return r, rc
	}
	for _, m := range fams[s.Requests].GetMetric() {
		r, rc := at(m)
		v := counterValue(m)
		rc.Requests += v
		if s.Errors == "" && label(m, "code_class") == "5xx" {
			rc.Status5xx += v
		}
		c.Routes[r] = rc
	}
	for _, m := range fams[s.Errors].GetMetric() {
		r, rc := at(m)
		rc.Status5xx += counterValue(m)
		c.Routes[r] = rc
	}
	for _, m := range fams[s.Histogram].GetMetric() {
		r, rc := at(m)
		h := m.GetHistogram()
		rc.Count += h.GetSampleCount()
		for _, b := range h.GetBucket() {
			rc.Buckets[b.GetUpperBound()] += b.GetCumulativeCount()
		}
		c.Routes[r] = rc
	}
	for _, m := range fams[s.Good].GetMetric() {
		r, rc := at(m)
		rc.Good[label(m, "objective")] += counterValue(m)
		c.Routes[r] = rc
	}
	for _, name := range s.Drops {
		for _, m := range fams[name].GetMetric() {
			c.Drops += counterValue(m)
		}
	}
	return c
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func counterValue(m *dto.Metric) uint64 {
	if c := m.GetCounter(); c != nil {
		return uint64(math.Round(c.GetValue()))
	}
	return uint64(math.Round(m.GetUntyped().GetValue()))
}

// Check compares c with the truth, route by route: requests, 5xx, the histogram's count
// and, for every latency objective, its bucket at the threshold (requests at or under it),
// and edgetel's availability good events when the schema has them. It returns the
// differences, none when the counts are exact.
func (s Schema) Check(c Counts, t sim.Truth) []string {
	var diffs []string
	diff := func(route, what string, got, want uint64) {
		if got != want {
			diffs = append(diffs, fmt.Sprintf("%s %s: got %d, want %d", route, what, got, want))
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for r := range t.Routes {
			if !yield(r) {
				return
			}
		}
	})
	for _, r := range names {
		want, got := t.Routes[r], c.Routes[r]
		diff(r, "requests", got.Requests, want.Requests)
		diff(r, "5xx", got.Status5xx, want.Status5xx)
		diff(r, "histogram count", got.Count, want.Requests)
		for obj, lt := range want.Latency {
			le := lt.Threshold.Seconds()
			if _, ok := got.Buckets[le]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: no histogram bucket at %ss (%s)", r, strconv.FormatFloat(le, 'g', -1, 64), obj))
				continue
			}
			diff(r, "requests ≤ "+lt.Threshold.String(), got.Buckets[le], lt.Good)
		}
		if s.Good != "" && r != model.UnmatchedRoute {
			diff(r, "availability good events", got.Good["availability"], want.Requests-want.Bad)
		}
	}
	for r, got := range c.Routes {
		if _, ok := t.Routes[r]; !ok && got.Requests > 0 {
			diffs = append(diffs, fmt.Sprintf("%s: %d requests the generator never sent", r, got.Requests))
		}
	}
	return diffs
}
