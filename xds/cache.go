package xds

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The caches behind the server, one per kind of churn (STYLE.md "One cache per xDS type;
// EDS apart"):
//   - listeners, routes and clusters change with policy: a SnapshotCache, set whole by
//     Publish, one snapshot per flavour of client (Envoy, gRPC) shared by all its nodes;
//   - endpoints change with the cluster's pods: the edsCache, a LinearCache for the backends
//     plus the per-node sink assignment;
//   - TLS certificates change with their Secrets (renewals): a LinearCache, set by
//     SetSecrets, that pushes only the secret that changed.
// A MuxCache sends each request to its cache by type URL, as Contour does.

// Cache keys of the MuxCache.
const (
	muxConfig      = "config"
	muxEndpoints   = "endpoints"
	muxSecrets     = "secrets"
	muxUnsupported = "unsupported"
)

// errDelta is what a client asking for incremental xDS gets.
var errDelta = status.Error(codes.Unimplemented,
	"edgetel xds serves state-of-the-world xDS only: set api_type GRPC, not DELTA_GRPC, in the node's ads_config")

type caches struct {
	config    nackGuard
	backends  *cachev3.LinearCache
	sinks     *sinkCache
	endpoints *edsCache
	secrets   *cachev3.LinearCache
	mux       *cachev3.MuxCache
}

func newCaches(log *slog.Logger) *caches {
	l := cacheLogger{log}
	c := &caches{
		config:   nackGuard{cachev3.NewSnapshotCache(false, flavourHash{}, l)},
		backends: cachev3.NewLinearCache(resource.EndpointType, cachev3.WithLogger(l)),
		sinks:    newSinkCache(),
		secrets:  cachev3.NewLinearCache(resource.SecretType, cachev3.WithLogger(l)),
	}
	c.endpoints = &edsCache{backends: c.backends, sinks: c.sinks, log: log}
	c.mux = &cachev3.MuxCache{
		Classify:      classify,
		ClassifyDelta: func(*cachev3.DeltaRequest) string { return muxUnsupported },
		Caches: map[string]cachev3.Cache{
			muxConfig:      c.config,
			muxEndpoints:   c.endpoints,
			muxSecrets:     secretCache{c.secrets},
			muxUnsupported: unsupportedCache{log: log},
		},
	}
	return c
}

func classify(req *cachev3.Request) string {
	switch req.GetTypeUrl() {
	case resource.ListenerType, resource.RouteType, resource.ClusterType:
		return muxConfig
	case resource.EndpointType:
		return muxEndpoints
	case resource.SecretType:
		return muxSecrets
	}
	return muxUnsupported
}

// Flavours of client. Envoy asks for every listener (a wildcard LDS watch) and must not get
// gRPC's api_listeners; gRPC asks for its listeners by the host name it dials.
const (
	flavourEnvoy = "envoy"
	flavourGRPC  = "grpc"
)

// flavourHash keys the SnapshotCache by flavour rather than by node: every node of a
// flavour shares one snapshot, so that a publish sets two snapshots, not one per node.
type flavourHash struct{}

var _ cachev3.NodeHash = flavourHash{}

func (flavourHash) ID(node *corev3.Node) string { return flavour(node) }

// flavour tells gRPC's xDS clients ("gRPC Go", "gRPC Java", ...) from Envoy by the user
// agent every xDS client sends.
func flavour(node *corev3.Node) string {
	if strings.HasPrefix(strings.ToLower(node.GetUserAgentName()), "grpc") {
		return flavourGRPC
	}
	return flavourEnvoy
}

// nackGuard stops the SnapshotCache from resending a rejected version in a loop. A NACK
// carries the last version the client accepted; the SnapshotCache answers any request whose
// version differs from the snapshot's at once, so it would send the rejected version back,
// be rejected again, and so on (go-control-plane issue 962). When the client was last sent
// the current version, the guard presents the NACK as holding it: the watch then waits for
// the next snapshot, which is what a NACK needs. (The LinearCache tracks what each client
// was sent and needs no guard.)
type nackGuard struct {
	cachev3.SnapshotCache
}

func (g nackGuard) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	if req.GetErrorDetail() != nil {
		if current, ok := g.sentCurrent(req, sub); ok {
			req = withVersion(req, current)
		}
	}
	return g.SnapshotCache.CreateWatch(req, sub, out)
}

// sentCurrent returns the current snapshot's version of the request's type, and whether it
// is the version the client was last sent. The SnapshotCache records that version against
// every resource it returns.
func (g nackGuard) sentCurrent(req *cachev3.Request, sub cachev3.Subscription) (string, bool) {
	snap, err := g.GetSnapshot(flavour(req.GetNode()))
	if err != nil {
		return "", false
	}
	current := snap.GetVersion(req.GetTypeUrl())
	for _, v := range sub.ReturnedResources() {
		return current, v == current
	}
	return "", false
}

// withVersion returns a copy of req with another version. The copy shares req's node and
// names, which no cache modifies, rather than cloning a node that may list hundreds of
// extensions on every request.
func withVersion(req *cachev3.Request, version string) *cachev3.Request {
	return &cachev3.Request{
		VersionInfo:      version,
		Node:             req.GetNode(),
		ResourceNames:    req.GetResourceNames(),
		ResourceLocators: req.GetResourceLocators(),
		TypeUrl:          req.GetTypeUrl(),
		ResponseNonce:    req.GetResponseNonce(),
		ErrorDetail:      req.GetErrorDetail(),
	}
}

// secretCache is the LinearCache of secrets, except that it never answers with nothing.
// The LinearCache answers a client's first request (one without a version) at once, even
// when it holds none of the secrets asked for. Envoy rejects an SDS response that lacks its
// secret, and the rejection holds no version either, so the LinearCache would answer it
// with the same empty response, in a loop. Presented with a version, the first request
// waits for the secret instead, while Envoy keeps the listener warming and the server
// reports the secret missing.
type secretCache struct {
	*cachev3.LinearCache
}

func (c secretCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	if req.GetVersionInfo() == "" {
		req = withVersion(req, "none")
	}
	return c.LinearCache.CreateWatch(req, sub, out)
}

// unsupportedCache takes requests for types edgetel does not serve (runtime, scoped routes,
// ...) and delta streams. A state-of-the-world request is never answered, and said so in the
// log: failing it would end the whole ADS stream, and with it every other type, over one
// resource the node can do without. A delta stream is refused outright: it can get nothing
// here.
type unsupportedCache struct{ log *slog.Logger }

var _ cachev3.Cache = unsupportedCache{}

func (c unsupportedCache) CreateWatch(req *cachev3.Request, _ cachev3.Subscription, _ chan cachev3.Response) (func(), error) {
	c.log.Warn("xds: a node asks for a type edgetel does not serve; it gets no answer",
		"node", req.GetNode().GetId(), "type", req.GetTypeUrl(), "names", req.GetResourceNames())
	return func() {}, nil
}

func (unsupportedCache) CreateDeltaWatch(*cachev3.DeltaRequest, cachev3.Subscription, chan cachev3.DeltaResponse) (func(), error) {
	return nil, errDelta
}

func (unsupportedCache) Fetch(_ context.Context, req *cachev3.Request) (cachev3.Response, error) {
	return nil, status.Errorf(codes.Unimplemented, "edgetel xds does not serve %s", req.GetTypeUrl())
}

// cacheLogger sends go-control-plane's logs to slog. Its Info logs trace every watch, so
// they go to Debug.
type cacheLogger struct{ log *slog.Logger }

func (l cacheLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args) }
func (l cacheLogger) Infof(format string, args ...any)  { l.logf(slog.LevelDebug, format, args) }
func (l cacheLogger) Warnf(format string, args ...any)  { l.logf(slog.LevelWarn, format, args) }
func (l cacheLogger) Errorf(format string, args ...any) { l.logf(slog.LevelError, format, args) }

func (l cacheLogger) logf(level slog.Level, format string, args []any) {
	if l.log.Enabled(context.Background(), level) { // spare the formatting of every watch
		l.log.Log(context.Background(), level, "xds cache: "+fmt.Sprintf(format, args...))
	}
}
