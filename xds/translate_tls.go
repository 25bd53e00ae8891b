package xds

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/edgetel/edgetel/model"
)

// ErrInvalidUpstreamTLS: an UpstreamTLS lacks a file or names one by a relative path.
var ErrInvalidUpstreamTLS = errors.New("invalid upstream TLS")

// UpstreamTLS is the client side of mutual TLS for an Envoy that talks to edgetel's gRPC
// ports (the xDS server, the sink): its certificate and key, and the CA that signed
// edgetel's certificate, as files on Envoy's disk where its pod mounts the Secret. A nil
// *UpstreamTLS is plaintext.
//
// Envoy checks that the server's certificate chains to the CA; it does not match the
// certificate's names, so the CA should sign edgetel's certificates and its clients' only.
// Envoy reads these files when it creates the cluster (the bootstrap's at start) and does
// not watch them: only secrets it takes over SDS, file-based included, are reloaded.
type UpstreamTLS struct {
	CertFile string
	KeyFile  string
	CAFile   string
}

// validate requires all three files, by absolute path: Envoy resolves a relative one from
// its own working directory, which is seldom what was meant.
func (u *UpstreamTLS) validate() error {
	if u == nil {
		return nil
	}
	var errs []error
	for _, f := range []struct{ name, path string }{{"certFile", u.CertFile}, {"keyFile", u.KeyFile}, {"caFile", u.CAFile}} {
		switch {
		case f.path == "":
			errs = append(errs, fmt.Errorf("%w: %s is required", ErrInvalidUpstreamTLS, f.name))
		case !filepath.IsAbs(f.path):
			errs = append(errs, fmt.Errorf("%w: %s %q must be an absolute path on Envoy's disk", ErrInvalidUpstreamTLS, f.name, f.path))
		}
	}
	return errors.Join(errs...)
}

// upstreamTLS is the transport socket of a cluster to an edgetel gRPC port: Envoy's
// certificate, the CA to check the server's, ALPN h2 (gRPC servers refuse TLS without it)
// and the server's name as SNI when it is a DNS name.
func upstreamTLS(u *UpstreamTLS, sni string) *corev3.TransportSocket {
	ctx := &tlsv3.UpstreamTlsContext{
		Sni: sni,
		CommonTlsContext: &tlsv3.CommonTlsContext{
			TlsParams:       &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2},
			AlpnProtocols:   []string{"h2"},
			TlsCertificates: []*tlsv3.TlsCertificate{{CertificateChain: file(u.CertFile), PrivateKey: file(u.KeyFile)}},
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: file(u.CAFile),
			}},
		},
	}
	return &corev3.TransportSocket{
		Name:       tlsSocketName,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

// serverName is the SNI for host: the host itself when it is a DNS name, none for an IP
// address (TLS forbids those as server names).
func serverName(host string) string {
	if host == "" || net.ParseIP(host) != nil {
		return ""
	}
	return host
}

// sinkServerName is the sink's SNI: its Service's cluster DNS name (name.namespace.svc),
// or its host.
func sinkServerName(s model.Sink) string {
	if ns, name, ok := strings.Cut(s.Service, "/"); ok {
		return name + "." + ns + ".svc"
	}
	return serverName(s.Host)
}
