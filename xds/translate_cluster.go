package xds

import (
	"cmp"
	"errors"
	"net"
	"slices"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgetel/edgetel/model"
)

const (
	// connectTimeout is Envoy's default, stated so that the config says what it does.
	connectTimeout = 5 * time.Second
	// grpcKeepalive pings the long-lived gRPC streams to the sink and the xDS server, so that
	// a peer that vanished without a FIN is noticed in seconds, not at the next write.
	grpcKeepaliveInterval = 30 * time.Second
	grpcKeepaliveTimeout  = 5 * time.Second
)

// translateClusters builds one cluster per backend and the sink's, sorted by name, and
// names the EDS clusters whose assignments arrive apart from the model.
func translateClusters(e *model.Edge, o Options, m *memo) ([]*clusterv3.Cluster, map[string]bool, error) {
	external := map[string]bool{}
	backends := e.Clusters()
	out := make([]*clusterv3.Cluster, 0, len(backends)+1)
	var errs []error
	sink, err := sinkCluster(e.Sink, o.SinkTLS)
	if err != nil {
		errs = append(errs, err)
	} else {
		out = append(out, sink)
		external[SinkCluster] = e.Sink.Service != ""
	}
	for _, b := range backends {
		if b.Cluster == SinkCluster {
			errs = append(errs, untranslatable("cluster", b.Cluster, "is the sink's name, which a backend may not take"))
			continue
		}
		c, err := m.cluster(b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		external[b.Cluster] = b.IsKubernetes()
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *clusterv3.Cluster) int { return cmp.Compare(a.Name, b.Name) })
	return out, external, errors.Join(errs...)
}

// backendCluster is EDS for a Kubernetes Service (endpoints from its EndpointSlices), STATIC
// for an IP address and STRICT_DNS for a DNS name.
func backendCluster(b model.Backend) (*clusterv3.Cluster, error) {
	switch {
	case b.IsKubernetes():
		return edsCluster(b.Cluster), nil
	case b.Host != "":
		return addressCluster(b.Cluster, b.Host, b.Port)
	}
	return nil, untranslatable("cluster", b.Cluster, "has neither a Kubernetes service nor an address")
}

// sinkCluster is the sink's cluster, HTTP/2 for gRPC: EDS when the sink is a Kubernetes
// Service (each node is given one endpoint, see DESIGN.md "Scale-out"), else its address;
// over mutual TLS when tls is set.
func sinkCluster(s model.Sink, tls *UpstreamTLS) (*clusterv3.Cluster, error) {
	var c *clusterv3.Cluster
	switch {
	case s.Service != "":
		c = edsCluster(SinkCluster)
	case s.Host != "":
		var err error
		if c, err = addressCluster(SinkCluster, s.Host, s.Port); err != nil {
			return nil, err
		}
	default:
		return nil, untranslatable("cluster", SinkCluster, "the sink has neither a Kubernetes service nor an address")
	}
	if tls != nil {
		if err := tls.validate(); err != nil {
			return nil, untranslatable("cluster", SinkCluster, "%v", err)
		}
		c.TransportSocket = upstreamTLS(tls, sinkServerName(s))
	}
	return withHTTP2(c), nil
}

func edsCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource()},
		ConnectTimeout:       durationpb.New(connectTimeout),
	}
}

func addressCluster(name, host string, port uint32) (*clusterv3.Cluster, error) {
	if port == 0 || port > 65535 {
		return nil, untranslatable("cluster", name, "port %d is out of range [1, 65535]", port)
	}
	c := &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		ConnectTimeout:       durationpb.New(connectTimeout),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: name,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint(host, port)},
			}},
		},
	}
	if net.ParseIP(host) == nil {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	}
	return c, nil
}

// withHTTP2 makes c speak HTTP/2 upstream, as gRPC needs, with keepalive pings.
func withHTTP2(c *clusterv3.Cluster) *clusterv3.Cluster {
	opts := &httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
						ConnectionKeepalive: &corev3.KeepaliveSettings{
							Interval: durationpb.New(grpcKeepaliveInterval),
							Timeout:  durationpb.New(grpcKeepaliveTimeout),
						},
					},
				},
			},
		},
	}
	c.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpOptionsKey: mustAny(opts)}
	return c
}
