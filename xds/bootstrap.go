package xds

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/config/metrics/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgetel/edgetel/model"
)

// ErrBootstrap: the bootstrap options are incomplete or wrong.
var ErrBootstrap = errors.New("invalid bootstrap options")

// Bootstrap defaults.
const (
	DefaultXDSAddress         = "127.0.0.1:18000"
	DefaultAdminPort          = 9901
	DefaultStatsFlushInterval = 10 * time.Second
	DefaultNodeCluster        = "edgetel-edge"
)

// BootstrapOptions says how one Envoy finds edgetel. The zero value of every field but
// NodeID takes the default.
type BootstrapOptions struct {
	// NodeID identifies the Envoy to the xDS server (and picks its sink endpoint); required.
	NodeID string
	// NodeCluster is the node's service cluster; default DefaultNodeCluster.
	NodeCluster string
	// XDSAddress is host:port of `edgetel xds`; default DefaultXDSAddress.
	XDSAddress string
	// Sink is where stats go, as in the model: a Kubernetes Service (its endpoint then comes
	// over EDS, pinned per node) or a fixed address; default 127.0.0.1:4317.
	Sink model.Sink
	// AdminPort of the admin interface, which listens on loopback only; default 9901.
	AdminPort uint32
	// StatsFlushInterval is how often stats go to the sink; default 10s.
	StatsFlushInterval time.Duration
	// XDSTLS, when set, makes Envoy reach the xDS server over mutual TLS (SNI: the host of
	// XDSAddress); nil is plaintext.
	XDSTLS *UpstreamTLS
	// SinkTLS, when set, makes Envoy reach the sink over mutual TLS, as the xDS server's
	// Config.SinkTLS does for the sink's cluster over CDS; the two must agree.
	SinkTLS *UpstreamTLS
}

func (o BootstrapOptions) withDefaults() BootstrapOptions {
	o.NodeCluster = cmp.Or(o.NodeCluster, DefaultNodeCluster)
	o.XDSAddress = cmp.Or(o.XDSAddress, DefaultXDSAddress)
	o.AdminPort = cmp.Or(o.AdminPort, DefaultAdminPort)
	o.StatsFlushInterval = cmp.Or(o.StatsFlushInterval, DefaultStatsFlushInterval)
	if o.Sink == (model.Sink{}) {
		o.Sink = model.Sink{Host: "127.0.0.1", Port: 4317}
	}
	return o
}

// Bootstrap is the static configuration of an Envoy of the edge: its node, an admin
// interface on loopback, listeners and clusters over ADS from the xDS server, and stats
// streamed to the sink by the metrics service (counters as deltas, tags as labels).
//
// The sink's cluster is static here, with the same definition Translate gives it: stats
// sinks are created before CDS delivers anything, so the cluster must exist at start. (Envoy
// then keeps this definition and ignores the CDS one of the same name.)
func Bootstrap(opts BootstrapOptions) (*bootstrapv3.Bootstrap, error) {
	o := opts.withDefaults()
	if o.NodeID == "" {
		return nil, fmt.Errorf("%w: a node ID is required", ErrBootstrap)
	}
	xds, err := xdsCluster(o.XDSAddress, o.XDSTLS)
	if err != nil {
		return nil, err
	}
	sink, err := sinkCluster(o.Sink, o.SinkTLS)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBootstrap, err)
	}
	clusters := []*clusterv3.Cluster{sink, xds}
	slices.SortFunc(clusters, func(a, b *clusterv3.Cluster) int { return cmp.Compare(a.Name, b.Name) })
	b := &bootstrapv3.Bootstrap{
		Node:               &corev3.Node{Id: o.NodeID, Cluster: o.NodeCluster},
		Admin:              &bootstrapv3.Admin{Address: socketAddress("127.0.0.1", o.AdminPort)},
		StaticResources:    &bootstrapv3.Bootstrap_StaticResources{Clusters: clusters},
		DynamicResources:   dynamicResources(),
		StatsSinks:         []*metricsv3.StatsSink{metricsServiceSink()},
		StatsFlushInterval: durationpb.New(o.StatsFlushInterval),
	}
	if err := checkMessage(b, "bootstrap"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBootstrap, err)
	}
	return b, nil
}

func xdsCluster(addr string, tls *UpstreamTLS) (*clusterv3.Cluster, error) {
	host, p, err := net.SplitHostPort(addr)
	port, perr := strconv.ParseUint(p, 10, 16)
	if err != nil || perr != nil || host == "" || port == 0 {
		return nil, fmt.Errorf("%w: xDS address %q must be host:port", ErrBootstrap, addr)
	}
	c, err := addressCluster(XDSCluster, host, uint32(port))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBootstrap, err)
	}
	c.UpstreamConnectionOptions = &clusterv3.UpstreamConnectionOptions{TcpKeepalive: &corev3.TcpKeepalive{}}
	if tls != nil {
		if err := tls.validate(); err != nil {
			return nil, fmt.Errorf("%w: xDS TLS: %w", ErrBootstrap, err)
		}
		c.TransportSocket = upstreamTLS(tls, serverName(host))
	}
	return withHTTP2(c), nil
}

// dynamicResources takes listeners and clusters (and through them routes and endpoints)
// over one state-of-the-world ADS stream, the protocol edgetel xds serves.
func dynamicResources() *bootstrapv3.Bootstrap_DynamicResources {
	return &bootstrapv3.Bootstrap_DynamicResources{
		AdsConfig: &corev3.ApiConfigSource{
			ApiType:             corev3.ApiConfigSource_GRPC,
			TransportApiVersion: corev3.ApiVersion_V3,
			GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSCluster},
			}}},
			SetNodeOnFirstMessageOnly: true,
		},
		LdsConfig: adsSource(),
		CdsConfig: adsSource(),
	}
}

func metricsServiceSink() *metricsv3.StatsSink {
	return &metricsv3.StatsSink{
		Name: metricsSinkName,
		ConfigType: &metricsv3.StatsSink_TypedConfig{TypedConfig: mustAny(&metricsv3.MetricsServiceConfig{
			GrpcService:            sinkService(),
			TransportApiVersion:    corev3.ApiVersion_V3,
			ReportCountersAsDeltas: wrapperspb.Bool(true),
			EmitTagsAsLabels:       true,
		})},
	}
}
