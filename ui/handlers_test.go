package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/serve"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

// mustContain fails for each want missing from body.
func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("the page has %q", w)
		}
	}
}

// rowOf returns the <tbody> of a route on the overview.
func rowOf(t *testing.T, body, route string) string {
	t.Helper()
	start := strings.Index(body, `data-route="`+route+`"`)
	if start < 0 {
		t.Fatalf("no row for %s", route)
	}
	end := strings.Index(body[start:], "</tbody>")
	return body[start : start+end]
}

func TestOverviewShowsEveryRouteWithItsState(t *testing.T) {
	u := fixtureUI(t)
	res, body := get(t, u.Handler(), "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for h, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	states := map[string]State{"shop/checkout": StatePage, "shop/cart": StateTicket, "shop/catalog": StateOK,
		"shop/search": StateOK, "payments/payments-api": StateOK}
	for route, want := range states {
		row := rowOf(t, body, route)
		mustContain(t, row, `data-state="`+string(want)+`"`, `href="/routes/`+route+`"`, `data-field="requests">123,456<`)
	}
	mustContain(t, rowOf(t, body, "unmatched"), "no objectives")
	checkout := rowOf(t, body, "shop/checkout")
	mustContain(t, checkout,
		`<td class="num burn burn-page" title="5m: 23,457 bad of 123,456 events">190×</td>`,
		`title="page: burn rate over 1h and 5m above 13.44×"`,
		"99.9%", "28d", "≤ 300ms")
	mustContain(t, body, `id="count-page">1<`, `id="count-ticket">1<`, `id="count-ok">3<`,
		"+ 1 without objectives", "5,000", ">7<", "1 rejected, 1 stale")
	// Unfilled windows are marked, filled ones are not.
	mustContain(t, checkout, `class="num burn burn-ticket partial" title="3d: 148 bad of 123,456 events (window not yet filled: over the 2d of data)"`)
	// Routes in Status order: by name, unmatched last.
	if i, j := strings.Index(body, "payments/payments-api"), strings.Index(body, `data-route="unmatched"`); i > j {
		t.Error("routes out of order")
	}
}

func TestOverviewIsDeterministic(t *testing.T) {
	u := fixtureUI(t)
	u.sample()
	_, a := get(t, u.Handler(), "/")
	_, b := get(t, u.Handler(), "/")
	if a != b {
		t.Error("two renders of the same state differ")
	}
}

func TestRoutePage(t *testing.T) {
	u := fixtureUI(t)
	for i := range 5 { // a history to chart
		u.hist.record(fixedNow.Add(time.Duration(i-5)*10*time.Second), u.cfg.Status.Status())
	}
	res, body := get(t, u.Handler(), "/routes/shop/checkout")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	mustContain(t, body,
		"<h1>shop/checkout <span class=\"state state-page\">page</span></h1>",
		`href="https://grafana.example/d/edgetel-shop_checkout"`,
		"examples/policies/checkout.yaml (EdgeRoute shop/checkout)", "prefix /checkout/ (POST)",
		`data-field="events">123,456<`, `data-field="bad">9,876<`,
		"<strong>Requests</strong>", "<strong>Errors</strong>", "<strong>Latency</strong>", "<strong>Burn rate</strong>",
		"page above 13.44×",
		// the bad request and its links
		"<code>POST /checkout/pay</code>", "<code>UF</code>", "availability, slower than 300ms",
		`href="http://jaeger.example:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736"`,
		`data-trace="4bf92f3577b34da6a3ce929d0e0e4736"`,
		// the cluster's Envoy stats, and only the cluster's
		"Envoy upstream stats of cluster <code>ext_127_0_0_1_9004</code>",
		`data-metric="edgetel_envoy_cluster_upstream_rq_retry_total" data-labels="">42<`)
	mustNotContain(t, body, "some_other_cluster")
	explore := regexp.MustCompile(`href="(https://grafana\.example/explore\?[^"]+)"`).FindStringSubmatch(body)
	if explore == nil {
		t.Fatal("no Explore link")
	}
	for _, want := range []string{"schemaVersion=1", "%224bf92f3577b34da6a3ce929d0e0e4736%22", "%22jaeger%22"} {
		if !strings.Contains(explore[1], want) {
			t.Errorf("Explore link %s lacks %s", explore[1], want)
		}
	}
}

func TestRoutePageWithoutLinksOrStats(t *testing.T) {
	u := fixtureUI(t)
	u.cfg.JaegerURL, u.cfg.GrafanaURL, u.cfg.Metrics = "", "", nil
	_, body := get(t, u.Handler(), "/routes/shop/checkout")
	mustContain(t, body, `<code class="id">4bf92f3577b34da6a3ce929d0e0e4736</code>`, "no metrics registry")
	mustNotContain(t, body, "/trace/", "explore", "Grafana dashboard")
	_, body = get(t, u.Handler(), "/routes/shop/cart")
	mustContain(t, body, "No request of this route broke an objective recently.")
}

func TestUnknownPagesAreNotFound(t *testing.T) {
	u := fixtureUI(t)
	for _, path := range []string{"/routes/shop/nope", "/routes/", "/nope", "/static/nope.css"} {
		if res, _ := get(t, u.Handler(), path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.StatusCode)
		}
	}
	_, body := get(t, u.Handler(), "/routes/shop/nope")
	mustContain(t, body, `No route &#34;shop/nope&#34; is in force.`)
}

func TestConfigPageSaysWhatWasRejectedAndWhere(t *testing.T) {
	u := fixtureUI(t)
	res, body := get(t, u.Handler(), "/config")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, f := range []string{"cart", "catalog", "edge", "payments", "search"} {
		mustContain(t, body, `<tr class="verdict-accepted" data-source="examples/policies/`+f+`.yaml">`)
	}
	mustContain(t, body,
		`id="count-accepted">5<`, `id="count-rejected">1<`, `id="count-stale">1<`,
		// stale: rejected, with its last accepted version in force and marked so
		`<tr class="verdict-stale" data-source="examples/policies/checkout.yaml">`,
		`<code class="field">spec.slo.objectives[0].target</code>: 199.9 must be a percentage`,
		`<a href="/routes/shop/checkout">shop/checkout</a> <span class="verdict verdict-stale"`,
		// rejected, its message escaped
		`<tr class="verdict-rejected" data-source="examples/policies/orders.yaml">`,
		`<code class="field">spec.slo.objectives[0].threshold</code>: &#34;&lt;b&gt;soon&lt;/b&gt;&#34; is not a duration`,
		// the file that did not parse
		"Reading the policies failed", "<code>examples/policies/zz-broken.yaml</code>",
		"examples/policies/edge.yaml (EdgeConfig edge)", "http :10000")
	mustNotContain(t, body, "<b>soon</b>", "<a href=\"/routes/shop/orders\"")
}

func TestConfigPageShowsRefusals(t *testing.T) {
	refused := fmt.Errorf("%w: %w", config.ErrRefused, errors.New("cluster ext_x: <no endpoints>"))
	u := fixtureUI(t)
	u.cfg.Policies = ConfigFunc(func() config.State { return config.State{RefusedErr: refused, Generation: 3} })
	_, body := get(t, u.Handler(), "/config")
	mustContain(t, body, "The last compiled configuration was refused",
		"compiled model refused: cluster ext_x: &lt;no endpoints&gt;", "No policies.", "No routes in force.")
}

func TestPipelinePageShowsWhatTheGathererHas(t *testing.T) {
	u := fixtureUI(t)
	_, body := get(t, u.Handler(), "/pipeline")
	mustContain(t, body, "<h2>Access logs in (Envoy ALS)</h2>",
		`data-metric="edgetel_als_entries_received_total" data-labels="protocol=&#34;http&#34;">5,000<`,
		`<td class="num loss" data-metric="edgetel_als_entries_dropped_total" data-labels="reason=&#34;queue_full&#34;">7<`,
		`<td class="num" data-metric="edgetel_als_entries_dropped_total" data-labels="reason=&#34;entry_limit&#34;">0<`)
	// Per-route and per-cluster series belong to the route pages.
	mustNotContain(t, body, "edgetel_slo_events_total", "edgetel_envoy_cluster_upstream_rq_retry_total")
}

func TestPagesWithoutSources(t *testing.T) {
	// As `edgetel xds` would wire it: typed nil pointers where there is no sink.
	var acct *slo.Accountant
	var bad *BadRequestLog
	u, err := New(Config{Status: acct, BadRequests: bad})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/":                     "This process runs no sink",
		"/config":               "This process reads no policies.",
		"/pipeline":             "This process has no metrics registry.",
		"/routes/shop/checkout": "No route &#34;shop/checkout&#34; is in force.",
	} {
		_, body := get(t, u.Handler(), path)
		mustContain(t, body, want)
	}
}

func TestEveryValueIsEscaped(t *testing.T) {
	evil := `<script>alert(1)</script>`
	edge := &model.Edge{Routes: []model.Route{{Name: "ns/" + evil, Backend: model.Backend{Cluster: evil},
		Source: model.Source{File: evil}, SLO: &model.SLO{Window: 28 * day, Objectives: []model.Objective{
			{Name: evil, Indicator: model.Availability, Target: 0.99}}}}}}
	status := []slo.RouteStatus{routeStatus(&edge.Routes[0], burns{}, 10)}
	u, err := New(Config{
		Status: StatusFunc(func() []slo.RouteStatus { return status }),
		Policies: ConfigFunc(func() config.State {
			return config.State{Edge: edge, SourceErr: errors.New(evil)}
		}),
		BadRequests: BadRequestsFunc(func(string, int) []BadRequest {
			return []BadRequest{{Path: evil, RequestID: evil, TraceID: `"><script>`, Upstream: evil}}
		}),
		JaegerURL: "http://jaeger.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/config", routeHref(edge.Routes[0].Name)} {
		res, body := get(t, u.Handler(), path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, res.StatusCode)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, `"><script>`) {
			t.Errorf("%s: a value reached the page unescaped", path)
		}
		mustContain(t, body, "&lt;script&gt;")
	}
}

func TestStaticAssets(t *testing.T) {
	u := fixtureUI(t)
	for path, ctype := range map[string]string{
		"/static/style.css":   "text/css; charset=utf-8",
		"/static/refresh.js":  "text/javascript; charset=utf-8",
		"/static/favicon.svg": "image/svg+xml",
	} {
		res, body := get(t, u.Handler(), path)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != ctype || body == "" {
			t.Errorf("%s: %d %q, %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
	}
	// Nothing on the pages may come from elsewhere: no absolute URL in a src or a stylesheet.
	_, body := get(t, u.Handler(), "/")
	if m := regexp.MustCompile(`(src|href)="(https?:)?//`).FindString(body); m != "" {
		t.Errorf("the overview loads %s", m)
	}
	_, css := get(t, u.Handler(), "/static/style.css")
	mustNotContain(t, css, "url(", "@import")
}

// TestMountsNextToMetrics wires the page as `edgetel run` does: at "/" of the HTTP port,
// where /metrics and /healthz keep their handlers.
func TestMountsNextToMetrics(t *testing.T) {
	u := fixtureUI(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	h := serve.NewHTTP("127.0.0.1:0", reg)
	h.Handle("/", u.Handler())
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	base := "http://" + h.Addr().String()
	for path, want := range map[string]string{"/": "Service level objectives", "/metrics": "go_", "/healthz": "ok",
		"/routes/unmatched": "This route has no objectives.", "/config": "Configuration"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: status %d, want 200 with %q", path, res.StatusCode, want)
		}
	}
}
