// Package sink assembles edgetel's telemetry sink: one gRPC port that takes Envoy's access
// logs, the SLI accounting they feed, and the Prometheus collectors that expose both.
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
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
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
	// StopGrace is how long Shutdown lets streams finish before it closes them (default 5s).
	// Envoy's access-log streams never end by themselves, so grace ends with a hard stop.
	StopGrace time.Duration
	// ALS configures the access-log receiver.
	ALS als.ReceiverConfig
}

// Defaults.
const (
	DefaultGRPCAddr        = ":4317"
	DefaultMaxRecvMsgBytes = 4 << 20
	DefaultStopGrace       = 5 * time.Second
)

// Validate reports the first field that is out of range.
func (c Config) Validate() error {
	switch {
	case c.MaxRecvMsgBytes < 0:
		return fmt.Errorf("%w: MaxRecvMsgBytes is %d", ErrInvalidConfig, c.MaxRecvMsgBytes)
	case c.StopGrace < 0:
		return fmt.Errorf("%w: StopGrace is %s", ErrInvalidConfig, c.StopGrace)
	}
	return c.ALS.Validate()
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
	return c
}

// Sink is the telemetry sink. It is a config.Applier: a new model changes the routes and
// objectives it accounts for.
type Sink struct {
	cfg      Config
	log      *slog.Logger
	acct     *slo.Accountant
	receiver *als.Receiver
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
	s.receiver, err = als.NewReceiver(cfg.ALS, s.acct, logger.With("receiver", "als"))
	if err != nil {
		return nil, err
	}
	s.server = grpc.NewServer(
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		// Envoy keeps its streams open for good and pings them; let it, within reason.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second}),
	)
	accesslogv3.RegisterAccessLogServiceServer(s.server, s.receiver)
	return s, nil
}

// Apply takes a new model into use. Counts of routes that stay are kept.
func (s *Sink) Apply(e *model.Edge) error {
	s.acct.SetModel(e)
	return nil
}

// Accountant is the SLI accounting, for the status page and tests.
func (s *Sink) Accountant() *slo.Accountant { return s.acct }

// Collectors are the sink's metrics: SLIs and its own telemetry.
func (s *Sink) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.acct, s.receiver}
}

// Start binds the gRPC port and serves in the background. It returns once the port is bound.
func (s *Sink) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil || s.stopped {
		return errors.New("sink: Start called twice")
	}
	if err := s.receiver.Start(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		_ = s.receiver.Shutdown(ctx)
		return fmt.Errorf("sink: listen %s: %w", s.cfg.GRPCAddr, err)
	}
	s.ln, s.served = ln, make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.server.Serve(ln); err != nil {
			s.log.Error("gRPC server stopped", "err", err)
		}
	}()
	s.log.Info("sink listening", "grpc", ln.Addr().String())
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
	return s.receiver.Shutdown(ctx)
}
