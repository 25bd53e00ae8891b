package ui

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
)

const (
	testJaeger  = "http://jaeger.test:16686"
	testGrafana = "http://grafana.test:3000"
	// screenshotPath is the README's picture of the overview.
	screenshotPath = "../docs/status-page.png"
)

// browserRig is a sink fed by the simulator, its policy store, and the status page on a
// loopback port, as `edgetel run` wires them.
type browserRig struct {
	edge  *model.Edge
	sink  *sinktest.Sink
	fleet *sim.Fleet
	// url serves the page; fastURL the same page refreshing itself every second.
	url, fastURL string
}

// TestStatusPageInChromium drives the example edge through an incident on shop/checkout and
// reads the status page in headless Chromium: every route is there, checkout pages, the
// numbers are those of /metrics, the links go to Jaeger and Grafana, and the config page
// names every policy's file. It saves a screenshot of the overview for the README.
func TestStatusPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium, a sink and a simulated fleet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	browser := newBrowser(ctx, t)
	rig := startRig(ctx, t)
	fams := rig.sink.Scrape(t)

	t.Run("the overview shows every route, and checkout pages", func(t *testing.T) {
		navigate(browser, t, rig.url+"/")
		checkOverview(browser, t, rig, fams)
	})
	t.Run("the route page's numbers are /metrics' and its links go to Jaeger and Grafana", func(t *testing.T) {
		navigate(browser, t, rig.url+"/routes/shop/checkout")
		checkRoutePage(browser, t, rig, fams)
	})
	t.Run("the config page lists the example policies with their files", func(t *testing.T) {
		navigate(browser, t, rig.url+"/config")
		checkConfigPage(browser, t, rig)
	})
	t.Run("the pipeline page's numbers are /metrics'", func(t *testing.T) {
		navigate(browser, t, rig.url+"/pipeline")
		checkPipelinePage(browser, t, fams)
	})
	t.Run("the script runs under the page's CSP and refreshes the page in place", func(t *testing.T) {
		navigate(browser, t, rig.fastURL+"/")
		checkRefresh(browser, t)
	})
	t.Run("the pages work without JavaScript", func(t *testing.T) {
		checkWithoutScripts(browser, t, rig)
	})
	t.Run("a screenshot of the overview", func(t *testing.T) {
		saveScreenshot(browser, t, rig.url+"/")
	})
}

// Traffic of the rig: seven minutes of the example edge at 50 requests/s (10 for checkout:
// enough for every window, light enough for the race detector), the demo incident from
// minute 2, sent in 15-second chunks (divisible by the fleet's three nodes).
const (
	rigRate   = 50
	rigChunk  = 750
	rigChunks = 28
	rigStep   = rigChunk / rigRate * time.Second
)

// startRig starts the sink, the store and the page, then drives the fleet through the
// traffic, sampling the page's history after each chunk on a clock that follows the fleet's.
func startRig(ctx context.Context, t *testing.T) *browserRig {
	edge := sinktest.ExampleEdge(t)
	s := sinktest.Start(t, edge)
	bad := NewBadRequestLog(0)
	store := config.NewStore(s.Sink, bad)
	policies, err := config.Examples().Load()
	if st := store.Update(policies, err); st.SourceErr != nil || st.RefusedErr != nil {
		t.Fatalf("the examples did not load: %v %v", st.SourceErr, st.RefusedErr)
	}
	// /metrics and the page read the same collectors, as in `edgetel run`.
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collectors()...)
	epoch := time.Now().Add(-rigChunks * rigStep).Truncate(time.Second)
	clock := &fakeClock{now: epoch}
	cfg := Config{Status: s.Accountant(), Policies: store, Metrics: reg, BadRequests: bad,
		JaegerURL: testJaeger, GrafanaURL: testGrafana, Now: clock.Now}
	u, url := serveUI(t, cfg)
	cfg.Refresh = time.Second // the same page refreshing every second, for the test of the script
	_, fastURL := serveUI(t, cfg)

	simCfg := sim.DefaultConfig(edge)
	simCfg.Address, simCfg.Rate, simCfg.Epoch = s.Addr().String(), rigRate, epoch
	fleet, err := sim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rigChunks {
		if err := fleet.SendN(ctx, rigChunk); err != nil {
			t.Fatal(err)
		}
		waitCounted(ctx, t, u.cfg.Status, uint64((i+1)*rigChunk))
		clock.Advance(rigStep)
		u.sample()
	}
	replayBadRequests(ctx, t, simCfg, bad, rigChunks*rigChunk)
	return &browserRig{edge: edge, sink: s, fleet: fleet, url: url, fastURL: fastURL}
}

// serveUI serves a status page on a loopback port for the test.
func serveUI(t *testing.T, cfg Config) (*UI, string) {
	u, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(u.Handler())
	t.Cleanup(srv.Close)
	return u, srv.URL
}

// replayBadRequests feeds the log what the sink received. The sink has no hook for a second
// consumer, so a second fleet with the same seed and epoch sends the same entries to a
// receiver of the log's own: for a seed and an epoch the simulator's traffic is identical,
// entry for entry, and a node's share of n does not depend on how SendN splits it (chunks
// divisible by the three nodes).
func replayBadRequests(ctx context.Context, t *testing.T, cfg sim.Config, bad *BadRequestLog, n int) {
	addr, stop := startALSReceiver(t, bad)
	cfg.Address = addr
	cfg.Stats, cfg.Spans = false, false // the log's receiver takes access logs only
	replay, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := replay.SendN(ctx, n); err != nil {
		t.Fatal(err)
	}
	stop()
}

type overviewRow struct {
	Route    string `json:"route"`
	State    string `json:"state"`
	Requests string `json:"requests"`
	Burn5m   string `json:"burn5m"`
	Class5m  string `json:"class5m"`
	Spark    bool   `json:"spark"`
}

func checkOverview(ctx context.Context, t *testing.T, rig *browserRig, fams map[string]*dto.MetricFamily) {
	rows := evaluate[[]overviewRow](ctx, t, `Array.from(document.querySelectorAll('tbody.route')).map(b => {
		const burn = b.querySelector('td.burn');
		return {route: b.dataset.route, state: b.dataset.state,
			requests: b.querySelector('[data-field=requests]').textContent,
			burn5m: burn ? burn.textContent : '', class5m: burn ? burn.className : '',
			spark: !!b.querySelector('svg.spark path[d^="M"]')};
	})`)
	byRoute := map[string]overviewRow{}
	for _, r := range rows {
		byRoute[r.Route] = r
	}
	for _, r := range append(rig.edge.Routes, model.Route{Name: model.UnmatchedRoute}) {
		row, ok := byRoute[r.Name]
		if !ok {
			t.Errorf("the overview lacks %s", r.Name)
			continue
		}
		if got, want := pageNumber(t, row.Requests), requestsOf(fams, r.Name); got != want || got == 0 {
			t.Errorf("%s: the page says %v requests, edgetel_requests_total sums to %v", r.Name, got, want)
		}
		wantState := "ok"
		if r.Name == "shop/checkout" {
			wantState = "page"
		}
		if r.SLO != nil && row.State != wantState {
			t.Errorf("%s: state %q, want %q", r.Name, row.State, wantState)
		}
		if r.SLO != nil && !row.Spark {
			t.Errorf("%s: no burn-rate chart", r.Name)
		}
	}
	checkout := byRoute["shop/checkout"]
	if burn := pageNumber(t, checkout.Burn5m); burn < 13.44 || !strings.Contains(checkout.Class5m, "burn-page") {
		t.Errorf("checkout's 5m burn rate %q (%s): want a spike above the page factor 13.44", checkout.Burn5m, checkout.Class5m)
	}
}

type badLink struct {
	Href    string `json:"href"`
	Trace   string `json:"trace"`
	Broke   string `json:"broke"`
	Explore string `json:"explore"`
}

func checkRoutePage(ctx context.Context, t *testing.T, rig *browserRig, fams map[string]*dto.MetricFamily) {
	for _, o := range rig.edge.Route("shop/checkout").SLO.Objectives {
		got := evaluate[string](ctx, t, `document.querySelector('tr[data-objective="`+o.Name+`"] [data-field=events]').textContent`)
		want, _ := sinktest.Value(fams, "edgetel_slo_events_total", map[string]string{"route": "shop/checkout", "objective": o.Name})
		if n := pageNumber(t, got); n != want || n == 0 {
			t.Errorf("%s events: the page says %v, edgetel_slo_events_total %v", o.Name, n, want)
		}
		got = evaluate[string](ctx, t, `document.querySelector('tr[data-objective="`+o.Name+`"] [data-field=state]').textContent`)
		if strings.TrimSpace(got) != "page" {
			t.Errorf("%s: state %q, want page", o.Name, got)
		}
	}
	links := evaluate[[]badLink](ctx, t, `Array.from(document.querySelectorAll('table.bad tbody tr')).map(r => ({
		href: r.querySelector('a.trace')?.href ?? '', trace: r.querySelector('a.trace')?.dataset.trace ?? '',
		broke: r.cells[1].textContent, explore: r.querySelector('a.explore')?.href ?? ''}))`)
	if len(links) == 0 {
		t.Fatal("no recent bad requests on checkout's page")
	}
	slow := rig.fleet.Truth().Routes["shop/checkout"].Latency["latency"].SlowTraceIDs
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	slowChecked := 0
	for _, l := range links {
		if !hex32.MatchString(l.Trace) || l.Href != testJaeger+"/trace/"+l.Trace {
			t.Errorf("trace link %q for trace %q, want %s/trace/<32 hex digits>", l.Href, l.Trace, testJaeger)
		}
		if !strings.HasPrefix(l.Explore, testGrafana+"/explore?schemaVersion=1&panes=") || !strings.Contains(l.Explore, l.Trace) {
			t.Errorf("Explore link %q does not query trace %s", l.Explore, l.Trace)
		}
		if strings.Contains(l.Broke, "slower than 300ms") {
			slowChecked++
			if _, ok := slow[l.Trace]; !ok {
				t.Errorf("trace %s is listed as slower than 300ms; the simulator sent no such slow request", l.Trace)
			}
		}
	}
	if slowChecked == 0 {
		t.Error("no slow request listed: the incident slows checkout down fourfold")
	}
	dash := evaluate[string](ctx, t, `Array.from(document.querySelectorAll('a')).find(a => a.textContent.includes('Grafana dashboard')).href`)
	if want := testGrafana + "/d/edgetel-shop_checkout"; dash != want {
		t.Errorf("dashboard link %q, want %q", dash, want)
	}
}

func checkConfigPage(ctx context.Context, t *testing.T, rig *browserRig) {
	policies := evaluate[map[string]string](ctx, t, `Object.fromEntries(Array.from(document.querySelectorAll('tr[data-source]'))
		.map(r => [r.dataset.source, r.querySelector('.verdict').textContent]))`)
	froms := evaluate[map[string]string](ctx, t, `Object.fromEntries(Array.from(document.querySelectorAll('table.routes tr[data-route]'))
		.map(r => [r.dataset.route, r.cells[6].textContent]))`)
	for _, f := range []string{"cart", "catalog", "checkout", "edge", "payments", "search"} {
		file := config.ExamplesDir + "/" + f + ".yaml"
		if v := policies[file]; v != "accepted" {
			t.Errorf("%s: verdict %q, want accepted", file, v)
		}
	}
	for _, r := range rig.edge.Routes {
		if want := r.Source.File; froms[r.Name] != want {
			t.Errorf("%s: from %q, want %q", r.Name, froms[r.Name], want)
		}
	}
}

func checkPipelinePage(ctx context.Context, t *testing.T, fams map[string]*dto.MetricFamily) {
	want, _ := sinktest.Value(fams, "edgetel_als_entries_received_total", map[string]string{"protocol": "http"})
	got := evaluate[string](ctx, t, `Array.from(document.querySelectorAll('[data-metric="edgetel_als_entries_received_total"]'))
		.find(td => td.dataset.labels === 'protocol="http"').textContent`)
	if n := pageNumber(t, got); n != want || n == 0 {
		t.Errorf("entries received: the page says %v, /metrics %v", n, want)
	}
}

// checkRefresh marks <main> and waits for refresh.js to replace it with a fresh one.
func checkRefresh(ctx context.Context, t *testing.T) {
	if hidden := evaluate[bool](ctx, t, `document.getElementById('refresh-toggle').hidden`); hidden {
		t.Fatal("refresh.js did not run: its toggle is still hidden")
	}
	evaluate[string](ctx, t, `document.getElementById('main').dataset.old = 'yes'`)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('main').dataset.old === undefined &&
		document.querySelectorAll('tbody.route').length > 0`, chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Errorf("<main> was not refreshed within 5s: %v", err)
	}
}

// checkWithoutScripts reads every page with JavaScript off, through the DOM domain.
func checkWithoutScripts(ctx context.Context, t *testing.T, rig *browserRig) {
	setScripts(ctx, t, false)
	defer setScripts(ctx, t, true)
	navigate(ctx, t, rig.url+"/")
	toggle, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("refresh-toggle"), "hidden"))
	if err != nil || !toggle.Exists {
		t.Fatalf("scripts still ran: the refresh toggle is shown (%v)", err)
	}
	for path, sel := range map[string]string{"/": "tbody.route", "/routes/shop/checkout": "table.bad tbody tr",
		"/config": "tr[data-source]", "/pipeline": "td[data-metric]"} {
		navigate(ctx, t, rig.url+path)
		if nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel))); err != nil || len(nodes) == 0 {
			t.Errorf("%s: no %s without JavaScript (%v)", path, sel, err)
		}
	}
}

// saveScreenshot keeps a full-page PNG of url in the test's directory, and refreshes the
// README's when asked to (EDGETEL_UPDATE_SCREENSHOT=1) or when there is none.
func saveScreenshot(ctx context.Context, t *testing.T, url string) {
	tmp := filepath.Join(t.TempDir(), "status-page.png")
	fullScreenshot(ctx, t, url, tmp)
	_, err := os.Stat(screenshotPath)
	if os.Getenv("EDGETEL_UPDATE_SCREENSHOT") != "1" && err == nil {
		t.Logf("screenshot in %s (EDGETEL_UPDATE_SCREENSHOT=1 updates %s)", tmp, screenshotPath)
		return
	}
	png, err := os.ReadFile(tmp)
	if err == nil {
		err = os.WriteFile(screenshotPath, png, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", screenshotPath)
}
