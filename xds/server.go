package xds

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/edgetel/edgetel/internal/mtls"
)

// DefaultListenAddress is where the xDS server listens unless told otherwise.
const DefaultListenAddress = ":18000"

// Errors of the server's life cycle and configuration.
var (
	ErrInvalidServerConfig = errors.New("invalid xDS server configuration")
	ErrStarted             = errors.New("xDS server already started")
	// ErrRejected wraps every reason Publish refuses a configuration.
	ErrRejected = errors.New("configuration rejected, the last good one stays in force")
	// ErrNoResources: Publish was given nil.
	ErrNoResources = errors.New("no resources")
)

// Config configures the Server. A zero field takes its default (DefaultConfig).
type Config struct {
	// ListenAddress is host:port for the gRPC listener; default ":18000". Port 0 picks a
	// free port (see Server.Addr).
	ListenAddress string
	// KeepaliveTime is how long a connection may be idle before the server pings the client,
	// so that a vanished Envoy is noticed and its node no longer counted; default 30s.
	KeepaliveTime time.Duration
	// KeepaliveTimeout is how long the server waits for the ping's answer; default 5s.
	KeepaliveTimeout time.Duration
	// Logger receives the server's logs; default slog.Default().
	Logger *slog.Logger
	// TLS, when set, makes the server require mutual TLS: Envoys present a certificate of
	// its client CA. The zero value serves plaintext.
	TLS mtls.Config
	// SinkTLS, when set, gives the sink's cluster the client side of mutual TLS: where each
	// Envoy finds its certificate, key and the CA of the sink's certificate. Set it when the
	// sink requires mutual TLS; nil speaks plaintext to the sink.
	SinkTLS *UpstreamTLS
}

// DefaultConfig returns the configuration that the zero Config stands for.
func DefaultConfig() Config {
	return Config{
		ListenAddress:    DefaultListenAddress,
		KeepaliveTime:    30 * time.Second,
		KeepaliveTimeout: 5 * time.Second,
		Logger:           slog.Default(),
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.ListenAddress = cmp.Or(c.ListenAddress, d.ListenAddress)
	c.KeepaliveTime = cmp.Or(c.KeepaliveTime, d.KeepaliveTime)
	c.KeepaliveTimeout = cmp.Or(c.KeepaliveTimeout, d.KeepaliveTimeout)
	c.Logger = cmp.Or(c.Logger, d.Logger)
	return c
}

// Validate checks c, its zero fields taken as their defaults, and names every bad field.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if _, _, err := net.SplitHostPort(c.ListenAddress); err != nil {
		errs = append(errs, fmt.Errorf("%w: listenAddress %q: %v", ErrInvalidServerConfig, c.ListenAddress, err))
	}
	if c.KeepaliveTime < time.Second {
		errs = append(errs, fmt.Errorf("%w: keepaliveTime %v: must be at least 1s", ErrInvalidServerConfig, c.KeepaliveTime))
	}
	if c.KeepaliveTimeout < 0 {
		errs = append(errs, fmt.Errorf("%w: keepaliveTimeout %v: must not be negative", ErrInvalidServerConfig, c.KeepaliveTimeout))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidServerConfig, err))
	}
	if err := c.SinkTLS.validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: sinkTLS: %w", ErrInvalidServerConfig, err))
	}
	return errors.Join(errs...)
}

// Server is edgetel's xDS management server: ADS (and the per-type LDS, RDS, CDS, EDS and SDS
// services) over go-control-plane, state of the world. What it serves outlives Start and
// Shutdown: a configuration published before Start is served from the first connection.
//
// It serves the private keys of the listeners' certificates (SetSecrets) to any client that
// asks for them by name: its port must be reachable by the Envoy fleet only, or require
// mutual TLS (Config.TLS) so that only holders of a client certificate get them.
type Server struct {
	cfg       Config
	log       *slog.Logger
	caches    *caches
	metrics   *metrics
	callbacks *callbacks

	pubMu      sync.Mutex // serializes Publish, SetEndpoints and SetSecrets
	published  published
	endpoints  endpointState
	secrets    secretState
	hasher     *hasher
	translator *Translator         // PublishEdge's, so that a one-route change translates one route
	creds      []grpc.ServerOption // mutual TLS, or none

	mu  sync.Mutex
	run *running // nil when not started
}

// running is one Start's worth of server: everything Shutdown must stop.
type running struct {
	lis    net.Listener
	grpc   *grpc.Server
	cancel context.CancelFunc // ends every xDS stream
	served chan struct{}      // closed when Serve has returned
}

// NewServer returns a server that serves nothing until Publish.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// The files are read now, so that a wrong path stops the start with its name.
	creds, err := cfg.TLS.ServerOptions(cfg.Logger.With("server", "xds"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidServerConfig, err)
	}
	m := newMetrics()
	return &Server{
		cfg:        cfg,
		log:        cfg.Logger,
		caches:     newCaches(cfg.Logger),
		metrics:    m,
		callbacks:  newCallbacks(cfg.Logger, m),
		endpoints:  newEndpointState(),
		secrets:    newSecretState(),
		hasher:     newHasher(),
		translator: NewTranslatorWith(Options{SinkTLS: cfg.SinkTLS}),
		creds:      creds,
	}, nil
}

// Start listens and serves in the background; it returns once the listener is bound. ctx
// bounds only the start itself.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		return ErrStarted
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("xds: listening on %s: %w", s.cfg.ListenAddress, err)
	}
	// The streams' context is the server's own, not ctx: they live until Shutdown.
	streams, cancel := context.WithCancel(context.Background())
	x := serverv3.NewServer(streams, s.caches.mux, s.callbacks.funcs())
	g := grpc.NewServer(append([]grpc.ServerOption{
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: s.cfg.KeepaliveTime, Timeout: s.cfg.KeepaliveTimeout}),
		// Clients (Envoy's connection_keepalive) may ping as often as every 10s.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}, s.creds...)...)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, x)
	listenerservice.RegisterListenerDiscoveryServiceServer(g, x)
	routeservice.RegisterRouteDiscoveryServiceServer(g, x)
	clusterservice.RegisterClusterDiscoveryServiceServer(g, x)
	endpointservice.RegisterEndpointDiscoveryServiceServer(g, x)
	secretservice.RegisterSecretDiscoveryServiceServer(g, x)
	run := &running{lis: lis, grpc: g, cancel: cancel, served: make(chan struct{})}
	go func() {
		defer close(run.served)
		if err := g.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("xds: server stopped", "address", lis.Addr().String(), "error", err)
		}
	}()
	s.run = run
	s.log.Info("xds: serving", "address", lis.Addr().String(), "mutualTLS", s.cfg.TLS.Enabled())
	return nil
}

// Addr returns the address the server listens on, or nil when it is not started.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return nil
	}
	return s.run.lis.Addr()
}

// Shutdown ends every stream, so that clients reconnect (to another replica), and stops
// the server; past ctx's deadline it closes connections without waiting. It is safe to call
// without Start and more than once, and the server can be started again.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	run := s.run
	s.run = nil
	s.mu.Unlock()
	if run == nil {
		return nil
	}
	// xDS streams never end by themselves: GracefulStop would wait for them forever.
	run.cancel()
	stopped := make(chan struct{})
	go func() {
		run.grpc.GracefulStop()
		close(stopped)
	}()
	var err error
	select {
	case <-stopped:
	case <-ctx.Done():
		run.grpc.Stop()
		<-stopped
		err = ctx.Err()
	}
	<-run.served
	return err
}
