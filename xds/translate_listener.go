package xds

import (
	"cmp"
	"errors"
	"slices"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgetel/edgetel/model"
)

// translateListeners builds one Envoy listener per model listener, each with one filter
// chain whose HTTP connection manager loads its routes by RDS.
func translateListeners(e *model.Edge) ([]*listenerv3.Listener, error) {
	if !globalUTF8(e) {
		return nil, untranslatable("edge config", e.Source.String(), "a listener, sink or header name is not UTF-8")
	}
	var errs []error
	out := make([]*listenerv3.Listener, 0, len(e.Listeners))
	for _, l := range e.Listeners {
		chain := &listenerv3.FilterChain{Filters: []*listenerv3.Filter{hcmFilter(edgeHCM(e, l))}}
		if l.TLS != nil {
			ts, err := downstreamTLS(l)
			errs = append(errs, err)
			chain.TransportSocket = ts
		}
		out = append(out, &listenerv3.Listener{
			Name:         ListenerName(l.Name),
			Address:      socketAddress(l.Address, l.Port),
			FilterChains: []*listenerv3.FilterChain{chain},
		})
	}
	slices.SortFunc(out, func(a, b *listenerv3.Listener) int { return cmp.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

// edgeHCM is the HTTP connection manager of an edge listener, with the telemetry switched on
// and the edge hardening Envoy recommends for paths and client addresses.
func edgeHCM(e *model.Edge, l model.Listener) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		StatPrefix: ListenerName(l.Name),
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    adsSource(),
			RouteConfigName: RouteConfigName(l.Name),
		}},
		HttpFilters:        []*hcmv3.HttpFilter{routerFilter()},
		RequestIdExtension: requestIDExtension(),
		GenerateRequestId:  wrapperspb.Bool(true),
		Tracing:            tracing(e.DefaultSamplingPercent),
		AccessLog:          []*accesslogv3.AccessLog{accessLog(e.AccessLog)},
		UseRemoteAddress:   wrapperspb.Bool(true),
		NormalizePath:      wrapperspb.Bool(true),
		MergeSlashes:       true,
	}
}

func hcmFilter(hcm *hcmv3.HttpConnectionManager) *listenerv3.Filter {
	return &listenerv3.Filter{
		Name:       hcmFilterName,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)},
	}
}

// routerFilter is the last (and only) HTTP filter: Envoy and gRPC both require a terminal one.
func routerFilter() *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{
		Name:       routerFilterName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})},
	}
}

// downstreamTLS terminates TLS with the listener's certificate: a Secret served over ADS
// (SDS, named as in the policy) or files on Envoy's disk.
func downstreamTLS(l model.Listener) (*corev3.TransportSocket, error) {
	common := &tlsv3.CommonTlsContext{AlpnProtocols: []string{"h2", "http/1.1"}}
	switch t := l.TLS; {
	case t.SecretName != "":
		common.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: t.SecretName, SdsConfig: adsSource()}}
	case t.CertFile != "" && t.KeyFile != "":
		common.TlsCertificates = []*tlsv3.TlsCertificate{{CertificateChain: file(t.CertFile), PrivateKey: file(t.KeyFile)}}
	default:
		return nil, untranslatable("listener", l.Name, "TLS needs a secret name, or a certificate and a key file")
	}
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: common}
	return &corev3.TransportSocket{
		Name:       tlsSocketName,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}, nil
}

func file(path string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
}

// adsSource says "over the ADS stream this config came on".
func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
