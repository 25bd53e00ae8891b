package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/slo"
)

// StatusSource is the SLO accounting the pages show. *slo.Accountant implements it.
type StatusSource interface {
	Status() []slo.RouteStatus
}

// StatusFunc adapts a function to a StatusSource.
type StatusFunc func() []slo.RouteStatus

// Status calls f.
func (f StatusFunc) Status() []slo.RouteStatus { return f() }

// ConfigSource is the configuration in force and the verdict on every policy. *config.Store
// implements it.
type ConfigSource interface {
	State() config.State
}

// ConfigFunc adapts a function to a ConfigSource.
type ConfigFunc func() config.State

// State calls f.
func (f ConfigFunc) State() config.State { return f() }

var (
	_ StatusSource = (*slo.Accountant)(nil)
	_ StatusSource = StatusFunc(nil)
	_ ConfigSource = (*config.Store)(nil)
	_ ConfigSource = ConfigFunc(nil)
)

// ErrInvalidConfig is wrapped by Config.Validate's errors.
var ErrInvalidConfig = errors.New("ui: invalid config")

// Defaults of Config.
const (
	DefaultSampleEvery      = 10 * time.Second
	DefaultHistory          = 3 * time.Hour
	DefaultRefresh          = 10 * time.Second
	DefaultGrafanaTracesUID = "jaeger"
	// maxHistorySamples bounds History/SampleEvery, so that a typo cannot make the ring huge.
	maxHistorySamples = 10_000
)

// Config configures the status page. Every source may be nil: its sections then say that
// this process does not run the part that feeds them (e.g. `edgetel xds` has no sink).
type Config struct {
	// Status is the SLO accounting: the sink's *slo.Accountant.
	Status StatusSource
	// Policies is the policy store: *config.Store.
	Policies ConfigSource
	// Metrics is the Gatherer behind /metrics; the pipeline page and the Envoy stats of a
	// route's cluster read it, so that they show exactly what a scrape would.
	Metrics prometheus.Gatherer
	// BadRequests keeps recent requests that broke an objective: a *BadRequestLog fed by the
	// sink's access logs, or the join's output once it keeps them.
	BadRequests BadRequests
	// JaegerURL and GrafanaURL are the bases of the trace and dashboard links; without them
	// the page shows the IDs without links.
	JaegerURL  string
	GrafanaURL string
	// GrafanaTracesUID is the UID of Grafana's Jaeger data source, for Explore links.
	// Default "jaeger".
	GrafanaTracesUID string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// SampleEvery is how often the charts' ring samples Status (default 10s); History how far
	// back it keeps (default 3h).
	SampleEvery time.Duration
	History     time.Duration
	// Refresh is how often an open page reloads its content, with JavaScript (default 10s).
	Refresh time.Duration
	// Logger gets the pages' render and gather errors; default: discarded.
	Logger *slog.Logger
}

// Validate reports every field that is out of range.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	// Links go into href attributes: only absolute http(s) URLs, never javascript: or relative.
	for _, f := range [...]struct{ name, url string }{{"JaegerURL", c.JaegerURL}, {"GrafanaURL", c.GrafanaURL}} {
		if f.url == "" {
			continue
		}
		p, err := url.Parse(f.url)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("%s %q is not an absolute http(s) URL", f.name, f.url)
		}
	}
	if c.SampleEvery < 0 || c.History < 0 || c.Refresh < 0 {
		bad("SampleEvery %v, History %v and Refresh %v must not be negative", c.SampleEvery, c.History, c.Refresh)
	}
	if d := c.withDefaults(); d.History/d.SampleEvery > maxHistorySamples {
		bad("History %v holds %d samples of %v, more than %d", d.History, d.History/d.SampleEvery, d.SampleEvery, maxHistorySamples)
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	c = c.withoutTypedNils()
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SampleEvery == 0 {
		c.SampleEvery = DefaultSampleEvery
	}
	if c.History == 0 {
		c.History = DefaultHistory
	}
	if c.Refresh == 0 {
		c.Refresh = DefaultRefresh
	}
	if c.GrafanaTracesUID == "" {
		c.GrafanaTracesUID = DefaultGrafanaTracesUID
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// withoutTypedNils clears sources that hold a nil pointer of the types `edgetel run` passes,
// so that a process without a sink (whose *slo.Accountant is nil) gets the page's "no sink"
// sections rather than a nil dereference.
func (c Config) withoutTypedNils() Config {
	if a, ok := c.Status.(*slo.Accountant); ok && a == nil {
		c.Status = nil
	}
	if s, ok := c.Policies.(*config.Store); ok && s == nil {
		c.Policies = nil
	}
	if l, ok := c.BadRequests.(*BadRequestLog); ok && l == nil {
		c.BadRequests = nil
	}
	if r, ok := c.Metrics.(*prometheus.Registry); ok && r == nil {
		c.Metrics = nil
	}
	return c
}

// UI is the status page: an http.Handler for its pages and a sampler that keeps the history
// its charts draw. Start and Shutdown run the sampler; the pages work without it, with no
// charts over time.
type UI struct {
	cfg   Config
	hist  *history
	pages *pages
	mux   *http.ServeMux

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

// New returns the status page of cfg.
func New(cfg Config) (*UI, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	u := &UI{cfg: cfg, pages: p, hist: newHistory(int(cfg.History / cfg.SampleEvery))}
	u.mux = u.routes()
	return u, nil
}

// Handler serves the pages. Mount it at "/": its paths are /, /routes/..., /config,
// /pipeline and /static/...; anything else is a 404, so /metrics and /healthz, registered
// with more specific patterns, are not shadowed.
func (u *UI) Handler() http.Handler { return u.mux }

// Start takes a first sample and samples every SampleEvery in the background until Shutdown.
// It returns at once; ctx is not kept.
func (u *UI) Start(_ context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.stop != nil {
		return errors.New("ui: Start called twice")
	}
	u.stop, u.done = make(chan struct{}), make(chan struct{})
	u.sample()
	go u.sampleLoop(u.stop, u.done)
	return nil
}

// Shutdown stops the sampler. It is safe to call twice and without Start; Start may follow.
func (u *UI) Shutdown(ctx context.Context) error {
	u.mu.Lock()
	stop, done := u.stop, u.done
	u.stop, u.done = nil, nil
	u.mu.Unlock()
	if stop == nil {
		return nil
	}
	close(stop)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (u *UI) sampleLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(u.cfg.SampleEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			u.sample()
		}
	}
}

// sample records the accounting of every route now.
func (u *UI) sample() {
	if u.cfg.Status == nil {
		return
	}
	u.hist.record(u.cfg.Now(), u.cfg.Status.Status())
}
