// Package sink assembles edgetel's telemetry sink: one gRPC port that takes Envoy's access
// logs, the SLI accounting they feed, the join of logs and spans, the export of spans to
// Jaeger, and the Prometheus collectors that expose them.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/keepalive"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/als/loki"
	alsotlp "github.com/edgetel/edgetel/als/otlp"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/mtls"
	"github.com/edgetel/edgetel/internal/rawpb"
	"github.com/edgetel/edgetel/join"
	"github.com/edgetel/edgetel/metrics"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
	"github.com/edgetel/edgetel/tracing"
	"github.com/edgetel/edgetel/tracing/jaeger"
)

// ErrInvalidConfig is wrapped by Config.Validate's errors.
var ErrInvalidConfig = errors.New("sink: invalid config")

// Config configures the sink. The zero Config is valid: every zero field takes its default.
type Config struct {
	// GRPCAddr is the gRPC listen address (default ":4317", the OTLP port, so that
	// OpenTelemetry SDKs can send to the same port once OTLP is served).
	GRPCAddr string
	// MaxRecvMsgBytes bounds one gRPC message (default 4 MiB, gRPC's own default). Envoy's
	// access-log batches are ~16 KiB.
	MaxRecvMsgBytes int
	// WindowBytes is the HTTP/2 flow-control window of each stream and of each connection
	// (default 2 MiB, at least HTTP/2's 65,535 bytes): how much an Envoy may send ahead of
	// what the sink has read. A fixed window replaces gRPC's estimate of the link's
	// bandwidth-delay product, which grows a window to 16 MiB when the sink is busy (a late
	// read looks like a long round trip), just when it should not: what waits unread then no
	// longer fits the CPU's cache. A smaller window costs a WINDOW_UPDATE for every quarter
	// of it read (see docs/performance.md). 2 MiB carries ~200 MB/s a stream over a 10 ms
	// round trip, far more than an Envoy logs.
	WindowBytes int
	// TLS, when set, makes the gRPC port require mutual TLS: Envoys present a certificate of
	// its client CA. The zero value serves plaintext.
	TLS mtls.Config
	// StopGrace is how long Shutdown lets streams finish before it closes them (default 5s).
	// Envoy's access-log streams never end by themselves, so grace ends with a hard stop.
	StopGrace time.Duration
	// ALS configures the access-log receiver.
	ALS als.ReceiverConfig
	// OTLPLogs configures the receiver of access logs as OTLP logs (Envoy's OpenTelemetry
	// access logger); its records go where the access-log receiver's go.
	OTLPLogs alsotlp.ReceiverConfig
	// Metrics configures the metrics-service receiver and the Envoy stats it keeps.
	Metrics metrics.Config
	// Tracing configures the OTLP trace receiver, Join the join of access logs and spans.
	Tracing tracing.ReceiverConfig
	Join    join.Config
	// Jaeger configures the export of spans to Jaeger; none without an Endpoint.
	Jaeger jaeger.Config
	// Loki configures the export of access logs to Loki; none without a URL.
	Loki loki.Config
	// Tap, when set, is given every access-log batch after the accounting, under the
	// als.Consumer contract (copy what you keep, never block): the status page's log of
	// recent bad requests is one.
	Tap als.Consumer
}

// Defaults.
const (
	DefaultGRPCAddr        = ":4317"
	DefaultMaxRecvMsgBytes = 4 << 20
	DefaultWindowBytes     = 2 << 20
	DefaultStopGrace       = 5 * time.Second
)

// The windows WindowBytes may set: HTTP/2's default and largest. gRPC takes a window below
// the default as a request to estimate one itself.
const (
	MinWindowBytes = 65535
	MaxWindowBytes = 1<<31 - 1
)

// Validate reports the first field that is out of range.
func (c Config) Validate() error {
	switch {
	case c.MaxRecvMsgBytes < 0:
		return fmt.Errorf("%w: MaxRecvMsgBytes is %d", ErrInvalidConfig, c.MaxRecvMsgBytes)
	case c.StopGrace < 0:
		return fmt.Errorf("%w: StopGrace is %s", ErrInvalidConfig, c.StopGrace)
	case c.WindowBytes != 0 && (c.WindowBytes < MinWindowBytes || c.WindowBytes > MaxWindowBytes):
		return fmt.Errorf("%w: WindowBytes is %d, not in [%d, %d]", ErrInvalidConfig, c.WindowBytes, MinWindowBytes, MaxWindowBytes)
	}
	if err := errors.Join(c.ALS.Validate(), c.OTLPLogs.Validate(), c.TLS.Validate()); err != nil {
		return err
	}
	var lokiErr error
	if c.Loki.URL != "" {
		lokiErr = c.Loki.Validate()
	}
	return errors.Join(c.Metrics.Validate(), c.Tracing.Validate(), c.Join.Validate(), c.Jaeger.Validate(), lokiErr)
}

func (c Config) withDefaults() Config {
	if c.GRPCAddr == "" {
		c.GRPCAddr = DefaultGRPCAddr
	}
	if c.MaxRecvMsgBytes == 0 {
		c.MaxRecvMsgBytes = DefaultMaxRecvMsgBytes
	}
	if c.StopGrace == 0 {
		c.StopGrace = DefaultStopGrace
	}
	if c.WindowBytes == 0 {
		c.WindowBytes = DefaultWindowBytes
	}
	return c
}

// Sink is the telemetry sink. It is a config.Applier: a new model changes the routes and
// objectives it accounts for.
type Sink struct {
	cfg      Config
	log      *slog.Logger
	acct     *slo.Accountant
	receiver *als.Receiver
	otlpLogs *alsotlp.Receiver
	stats    *metrics.Store
	statsRx  *metrics.Receiver
	traces   *tracing.Receiver
	join     *join.Join
	jaeger   *jaeger.Exporter // nil without a Jaeger endpoint
	loki     *loki.Exporter   // nil without a Loki URL
	server   *grpc.Server

	mu      sync.Mutex
	ln      net.Listener
	served  chan struct{}
	stopped bool
}

var _ config.Applier = (*Sink)(nil)

// New returns a sink accounting for the routes of e (nil: none yet, everything unmatched).
func New(cfg Config, e *model.Edge, logger *slog.Logger) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if e == nil {
		e = &model.Edge{}
	}
	s := &Sink{cfg: cfg, log: logger, acct: slo.NewAccountant(e, time.Now)}
	var err error
	if s.stats, err = metrics.NewStore(cfg.Metrics, e, time.Now); err != nil {
		return nil, err
	}
	if s.statsRx, err = metrics.NewReceiver(cfg.Metrics, s.stats, logger.With("receiver", "metrics")); err != nil {
		return nil, err
	}
	// Without Jaeger, the join has no exporter behind it: it counts what it matches.
	var joined join.Consumer = join.Discard
	if cfg.Jaeger.Enabled() {
		if s.jaeger, err = jaeger.New(cfg.Jaeger, logger.With("exporter", "jaeger")); err != nil {
			return nil, err
		}
		joined = s.jaeger
	}
	if s.join, err = join.New(cfg.Join, e, joined, nil); err != nil {
		return nil, err
	}
	// The stats store counts access-log entries per cluster after the SLI accounting; the
	// join comes last and never makes them wait (see join.Join).
	if cfg.Loki.URL != "" {
		if s.loki, err = loki.New(cfg.Loki, e, logger.With("exporter", "loki")); err != nil {
			return nil, err
		}
	}
	logs := als.ConsumerFunc(func(b []als.Record) {
		s.acct.ConsumeRecords(b)
		if cfg.Tap != nil {
			cfg.Tap.ConsumeRecords(b)
		}
		s.stats.ConsumeRecords(b)
		s.join.ConsumeRecords(b)
		if s.loki != nil {
			s.loki.ConsumeRecords(b)
		}
	})
	s.receiver, err = als.NewReceiver(cfg.ALS, logs, logger.With("receiver", "als"))
	if err != nil {
		return nil, err
	}
	// The files are read now, so that a wrong path stops the start with its name.
	creds, err := cfg.TLS.ServerOptions(logger.With("server", "sink"))
	if err != nil {
		return nil, err
	}
	// The receivers keep messages as their bytes; the codec copies them once from gRPC's
	// receive buffers (see rawpb.Codec).
	codec, err := rawpb.Codec(nil)
	if err != nil {
		return nil, err
	}
	opts := append([]grpc.ServerOption{
		grpc.ForceServerCodecV2(codec),
		// Buffers by powers of two, lent uncleared: see rawpb.Pool.
		experimental.BufferPool(rawpb.NewPool()),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		grpc.InitialWindowSize(int32(cfg.WindowBytes)),
		grpc.InitialConnWindowSize(int32(cfg.WindowBytes)),
		// Envoy keeps its streams open for good and pings them; let it, within reason.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second}),
	}, creds...)
	if !cfg.TLS.Enabled() {
		// Fewer, larger reads: at the maximum access-log rate a read syscall per 32 KiB (the
		// default) is a sixth of the sink's CPU, and ~5% of it goes with 256 KiB reads. On a
		// plain TCP connection gRPC takes the buffer from a pool only when data is ready, so
		// idle connections pin none of it; over TLS it would be held per connection.
		opts = append(opts, grpc.ReadBufferSize(256<<10))
	}
	s.server = grpc.NewServer(opts...)
	accesslogv3.RegisterAccessLogServiceServer(s.server, s.receiver)
	if s.otlpLogs, err = alsotlp.NewReceiver(cfg.OTLPLogs, logs, logger.With("receiver", "otlp-logs")); err != nil {
		return nil, err
	}
	s.resolveRoutesIn(e)
	s.otlpLogs.Register(s.server)
	metricsv3.RegisterMetricsServiceServer(s.server, s.statsRx)
	// The exporter takes each span before the join can emit it (see package jaeger).
	var spans tracing.Consumer = s.join
	if s.jaeger != nil {
		spans = tracing.ConsumerFunc(func(b *tracing.Batch) {
			s.jaeger.ConsumeSpans(b)
			s.join.ConsumeSpans(b)
		})
	}
	if s.traces, err = tracing.NewReceiver(cfg.Tracing, spans, logger.With("receiver", "otlp-traces")); err != nil {
		return nil, err
	}
	s.traces.Register(s.server)
	return s, nil
}

// Apply takes a new model into use. Counts of routes that stay are kept.
func (s *Sink) Apply(e *model.Edge) error {
	// The consumers first: a record resolved in the new model before they have it is looked
	// up by name, as is one resolved in the old model after (see als.Record.RouteIn).
	s.acct.SetModel(e)
	s.stats.SetModel(e)
	s.join.SetModel(e)
	if s.loki != nil {
		s.loki.SetModel(e)
	}
	s.resolveRoutesIn(e)
	return nil
}

// resolveRoutesIn makes both access-log receivers resolve records' routes in e, with one
// index (see als.RouteIndex).
func (s *Sink) resolveRoutesIn(e *model.Edge) {
	routes := als.NewRouteIndex(e)
	s.receiver.SetRoutes(routes)
	s.otlpLogs.SetRoutes(routes)
}

// Accountant is the SLI accounting, for the status page and tests.
func (s *Sink) Accountant() *slo.Accountant { return s.acct }

// EnvoyStats is the Envoy stats joined to the model's clusters, for the status page and tests.
func (s *Sink) EnvoyStats() *metrics.Store { return s.stats }

// Collectors are the sink's metrics: SLIs, Envoy stats and its own telemetry.
func (s *Sink) Collectors() []prometheus.Collector {
	cs := []prometheus.Collector{s.acct, s.receiver, s.otlpLogs, s.stats, s.statsRx, s.traces, s.join}
	if s.jaeger != nil {
		cs = append(cs, s.jaeger)
	}
	if s.loki != nil {
		cs = append(cs, s.loki)
	}
	return cs
}

// Start binds the gRPC port and serves in the background. It returns once the port is bound.
func (s *Sink) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil || s.stopped {
		return errors.New("sink: Start called twice")
	}
	// Each stage before the stages that feed it, so that nothing finds it stopped.
	if err := errors.Join(s.startJaeger(ctx), s.startLoki(ctx), s.join.Start(ctx), s.traces.Start(ctx), s.receiver.Start(ctx), s.otlpLogs.Start(ctx)); err != nil {
		_ = s.stopPipeline(ctx)
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		_ = s.stopPipeline(ctx)
		return fmt.Errorf("sink: listen %s: %w", s.cfg.GRPCAddr, err)
	}
	s.ln, s.served = ln, make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.server.Serve(ln); err != nil {
			s.log.Error("gRPC server stopped", "err", err)
		}
	}()
	s.log.Info("sink listening", "grpc", ln.Addr().String(), "mutualTLS", s.cfg.TLS.Enabled())
	return nil
}

// Addr is the bound gRPC address; nil before Start.
func (s *Sink) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Ready reports whether the sink takes telemetry.
func (s *Sink) Ready() error {
	if s.Addr() == nil {
		return errors.New("sink not started")
	}
	return nil
}

// Shutdown stops taking streams, gives those open StopGrace to end, then closes them and
// waits until every record already received has been accounted for. Safe to call twice and
// without Start.
func (s *Sink) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	started := s.ln != nil && !s.stopped
	s.stopped = true
	s.mu.Unlock()
	if !started {
		return nil
	}
	graceful := make(chan struct{})
	go func() { s.server.GracefulStop(); close(graceful) }()
	timer := time.NewTimer(s.cfg.StopGrace)
	defer timer.Stop()
	select {
	case <-graceful:
	case <-timer.C:
		s.server.Stop()
	case <-ctx.Done():
		s.server.Stop()
	}
	<-graceful
	<-s.served
	return s.stopPipeline(ctx)
}

// stopPipeline drains the receivers into the accounting and the join, then the join into
// its consumer, then the Jaeger exporter, so that nothing received is left behind.
func (s *Sink) stopPipeline(ctx context.Context) error {
	err := errors.Join(s.receiver.Shutdown(ctx), s.otlpLogs.Shutdown(ctx), s.traces.Shutdown(ctx), s.join.Shutdown(ctx))
	if s.jaeger != nil {
		err = errors.Join(err, s.jaeger.Shutdown(ctx))
	}
	if s.loki != nil {
		err = errors.Join(err, s.loki.Shutdown(ctx))
	}
	return err
}

func (s *Sink) startLoki(ctx context.Context) error {
	if s.loki == nil {
		return nil
	}
	return s.loki.Start(ctx)
}

func (s *Sink) startJaeger(ctx context.Context) error {
	if s.jaeger == nil {
		return nil
	}
	return s.jaeger.Start(ctx)
}
