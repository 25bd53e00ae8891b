// Package serve holds the HTTP and gRPC server components that edgetel's halves share: one
// HTTP port for /metrics, health and the status page; gRPC ports for the sink and xDS.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HTTP serves /metrics (OpenMetrics negotiated, so exemplars are exposed), /healthz, /readyz
// and whatever else is handed to Handle before Start.
type HTTP struct {
	addr string
	mux  *http.ServeMux
	srv  *http.Server

	mu       sync.Mutex
	ln       net.Listener
	checks   map[string]func() error
	stopOnce sync.Once
	done     chan struct{}
}

// NewHTTP returns a server for addr that exposes the metrics of g.
func NewHTTP(addr string, g prometheus.Gatherer) *HTTP {
	h := &HTTP{addr: addr, mux: http.NewServeMux(), checks: map[string]func() error{}}
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}))
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	h.mux.HandleFunc("GET /readyz", h.ready)
	h.srv = &http.Server{Handler: h.mux, ReadHeaderTimeout: 10 * time.Second}
	return h
}

// Handle registers a handler; call it before Start.
func (h *HTTP) Handle(pattern string, handler http.Handler) { h.mux.Handle(pattern, handler) }

// HandlePprof serves Go's runtime profiles under /debug/pprof/, as net/http/pprof does on
// the default mux; call it before Start. The CPU profile it takes under load is what the
// binary is built with (cmd/edgetel/default.pgo).
func (h *HTTP) HandlePprof() {
	h.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	h.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	h.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	h.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	h.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// AddReadyCheck adds a check to /readyz: the server is ready when every check returns nil.
func (h *HTTP) AddReadyCheck(name string, check func() error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = check
}

func (h *HTTP) ready(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	names := make([]string, 0, len(h.checks))
	for n := range h.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	var failed []string
	for _, n := range names {
		if err := h.checks[n](); err != nil {
			failed = append(failed, n+": "+err.Error())
		}
	}
	h.mu.Unlock()
	if len(failed) > 0 {
		http.Error(w, "not ready: "+strings.Join(failed, "; "), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Start listens and serves in the background; it returns once the port is bound.
func (h *HTTP) Start(_ context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln != nil {
		return errors.New("http server already started")
	}
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", h.addr, err)
	}
	h.ln, h.done = ln, make(chan struct{})
	go func() {
		defer close(h.done)
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("http server stopped", "addr", ln.Addr(), "err", err)
		}
	}()
	return nil
}

// Addr is the bound address, nil before Start.
func (h *HTTP) Addr() net.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln == nil {
		return nil
	}
	return h.ln.Addr()
}

// Shutdown stops accepting and waits for requests in flight, until ctx is done. It is safe
// to call twice and without Start.
func (h *HTTP) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	started := h.ln != nil
	h.mu.Unlock()
	if !started {
		return nil
	}
	var err error
	h.stopOnce.Do(func() {
		err = h.srv.Shutdown(ctx)
		<-h.done
	})
	return err
}
