package ui

import (
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

// fixedNow is the fake clock of the handler tests.
var fixedNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// burns is a burn rate per window; windows not named burn at 0.
type burns map[time.Duration]float64

// objectiveStatus is an objective burning at b, with events over the whole of every window.
func objectiveStatus(o model.Objective, window time.Duration, b burns, events uint64) slo.ObjectiveStatus {
	os := slo.ObjectiveStatus{Objective: o, Events: events, Since: fixedNow.Add(-48 * time.Hour)}
	for k, w := range slo.Windows {
		rate := b[w]
		bad := rate * o.ErrorBudget() * float64(events)
		os.BurnRates[k] = slo.WindowStatus{Window: w, Events: float64(events), Bad: bad, BurnRate: rate,
			Filled: w <= 48*time.Hour}
	}
	sloBurn := b[window]
	os.SLOWindow = slo.WindowStatus{Window: window, Events: float64(events), BurnRate: sloBurn}
	os.BudgetRemaining = 1 - sloBurn
	os.Good = events - uint64(math.Round(b[time.Hour]*o.ErrorBudget()*float64(events)))
	return os
}

// routeStatus is the accounting of model route r, each objective burning at b.
func routeStatus(r *model.Route, b burns, requests uint64) slo.RouteStatus {
	rs := slo.RouteStatus{Route: r.Name, Since: fixedNow.Add(-48 * time.Hour)}
	rs.Requests[2] = requests - requests/100
	rs.Requests[5] = requests / 100
	if r.SLO == nil {
		return rs
	}
	rs.Window = r.SLO.Window
	for _, o := range r.SLO.Objectives {
		rs.Objectives = append(rs.Objectives, objectiveStatus(o, rs.Window, b, requests))
	}
	return rs
}

// exampleStatus is the example routes' accounting: checkout pages, cart has a ticket,
// the others are fine, and unmatched has no objectives.
func exampleStatus(t testing.TB, e *model.Edge) []slo.RouteStatus {
	t.Helper()
	var out []slo.RouteStatus
	for i := range e.Routes {
		r := &e.Routes[i]
		b := burns{5 * time.Minute: 0.2, time.Hour: 0.3, 24 * time.Hour: 0.25, 72 * time.Hour: 0.25}
		switch r.Name {
		case "shop/checkout":
			b = burns{5 * time.Minute: 190, 30 * time.Minute: 150, time.Hour: 80, 2 * time.Hour: 40,
				6 * time.Hour: 14, 24 * time.Hour: 3.5, 72 * time.Hour: 1.2, r.SLO.Window: 0.4}
		case "shop/cart":
			b = burns{2 * time.Hour: 3.5, 24 * time.Hour: 3.1, r.SLO.Window: 0.1}
		}
		out = append(out, routeStatus(r, b, 123456))
	}
	return append(out, routeStatus(&model.Route{Name: model.UnmatchedRoute}, nil, 789))
}

// policyFS is the example policies as a map that tests can change.
func policyFS(t testing.TB) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(examples.Policies(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.Policies(), p)
		out[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// brokenState is the examples after an update that broke three things: checkout's new
// version is invalid (its last accepted one stays: stale), a new route is invalid
// (rejected), and a file is not YAML (a source error).
func brokenState(t testing.TB) config.State {
	t.Helper()
	fsys := policyFS(t)
	dir := config.NewDir(fsys, config.ExamplesDir)
	store := config.NewStore()
	ps, err := dir.Load()
	if err != nil {
		t.Fatal(err)
	}
	store.Update(ps, nil)
	checkout := string(fsys["checkout.yaml"].Data)
	fsys["checkout.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(checkout, "target: 99.9}", "target: 199.9}", 1))}
	fsys["orders.yaml"] = &fstest.MapFile{Data: []byte(`apiVersion: edgetel.io/v1alpha1
kind: EdgeRoute
metadata: {name: orders, namespace: shop}
spec:
  match: {prefix: /orders/}
  backend: {address: 127.0.0.1:9006}
  slo:
    objectives:
      - {name: latency, target: 99, threshold: <b>soon</b>}
`)}
	fsys["zz-broken.yaml"] = &fstest.MapFile{Data: []byte("kind: [unclosed\n")}
	ps, err = dir.Load()
	return store.Update(ps, err)
}

// fakeBad is a BadRequests with one request per route, traced.
var fakeBad = BadRequestsFunc(func(route string, limit int) []BadRequest {
	if limit < 1 || route != "shop/checkout" {
		return nil
	}
	return []BadRequest{{Route: route, Time: fixedNow.Add(-time.Minute), Method: "POST", Path: "/checkout/pay",
		Status: 503, Flags: als.FlagUpstreamConnectionFailure, Duration: 1200 * time.Millisecond,
		Upstream: "127.0.0.1:9004", RequestID: "6f1c2b7e-0a5d-4c1e-9b1a-2f3e4d5c6b7a",
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Unavailable: true, SlowerThan: 300 * time.Millisecond}}
})

// clusterRegistry is a registry with pipeline counters and one cluster's Envoy stats.
func clusterRegistry(t testing.TB, cluster string) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	received := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edgetel_als_entries_received_total",
		Help: "Access-log entries received from Envoy."}, []string{"protocol"})
	received.WithLabelValues("http").Add(5000)
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edgetel_als_entries_dropped_total",
		Help: "HTTP entries dropped."}, []string{"reason"})
	dropped.WithLabelValues("queue_full").Add(7)
	dropped.WithLabelValues("entry_limit").Add(0)
	retries := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edgetel_envoy_cluster_upstream_rq_retry_total",
		Help: "Retries."}, []string{"cluster"})
	retries.WithLabelValues(cluster).Add(42)
	retries.WithLabelValues("some_other_cluster").Add(1)
	events := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edgetel_slo_events_total",
		Help: "Events."}, []string{"route", "objective"})
	events.WithLabelValues("shop/checkout", "availability").Add(1)
	reg.MustRegister(received, dropped, retries, events)
	return reg
}

// fixtureUI is the status page over the examples: brokenState's config, exampleStatus's
// accounting, clusterRegistry's metrics and fakeBad's requests, links configured.
func fixtureUI(t testing.TB) *UI {
	t.Helper()
	st := brokenState(t)
	status := exampleStatus(t, st.Edge)
	u, err := New(Config{
		Status:      StatusFunc(func() []slo.RouteStatus { return status }),
		Policies:    ConfigFunc(func() config.State { return st }),
		Metrics:     clusterRegistry(t, st.Edge.Route("shop/checkout").Backend.Cluster),
		BadRequests: fakeBad,
		JaegerURL:   "http://jaeger.example:16686/",
		GrafanaURL:  "https://grafana.example",
		Now:         func() time.Time { return fixedNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// get serves a GET of path and returns the response and its body.
func get(t testing.TB, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}
