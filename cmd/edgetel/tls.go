package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/edgetel/edgetel/internal/mtls"
	"github.com/edgetel/edgetel/xds"
)

// registerServerTLS adds the flags of the server side of mutual TLS: one set for both gRPC
// ports, the xDS server's and the sink's, as one Secret serves both in the chart.
func registerServerTLS(fs *pflag.FlagSet, c *mtls.Config) {
	fs.StringVar(&c.CertFile, "tls-cert-file", "", "serve gRPC over mutual TLS with this certificate chain (PEM, tls.crt of a kubernetes.io/tls Secret); reread when it changes")
	fs.StringVar(&c.KeyFile, "tls-key-file", "", "the private key of --tls-cert-file (PEM, tls.key)")
	fs.StringVar(&c.ClientCAFile, "tls-client-ca-file", "", "the CA certificates (PEM, ca.crt) that Envoys' client certificates must chain to")
}

// envoyTLSFlags say where each Envoy finds the client side of mutual TLS: its certificate,
// its key and the CA of edgetel's certificates, paths on Envoy's disk (where its pod
// mounts the Secret), not on edgetel's.
type envoyTLSFlags struct {
	certFile, keyFile, caFile string
}

func (f *envoyTLSFlags) register(fs *pflag.FlagSet, what string) {
	fs.StringVar(&f.certFile, "envoy-tls-cert-file", "", "with mutual TLS, the path of Envoy's client certificate (PEM) on Envoy's disk; makes "+what+" use TLS")
	fs.StringVar(&f.keyFile, "envoy-tls-key-file", "", "the path of the key of --envoy-tls-cert-file on Envoy's disk")
	fs.StringVar(&f.caFile, "envoy-tls-ca-file", "", "the path on Envoy's disk of the CA (PEM) that signed edgetel's certificates")
}

// upstream is the flags as the translator and the bootstrap take them: nil when none is set.
func (f envoyTLSFlags) upstream() (*xds.UpstreamTLS, error) {
	if f == (envoyTLSFlags{}) {
		return nil, nil
	}
	if f.certFile == "" || f.keyFile == "" || f.caFile == "" {
		return nil, errors.New("--envoy-tls-cert-file, --envoy-tls-key-file and --envoy-tls-ca-file go together: set all three or none")
	}
	return &xds.UpstreamTLS{CertFile: f.certFile, KeyFile: f.keyFile, CAFile: f.caFile}, nil
}

// dialOptions are the simulated fleet's credentials: it stands for the Envoys, so it reads
// their files (here on this disk), or none when the flags are unset.
func (f envoyTLSFlags) dialOptions() ([]grpc.DialOption, error) {
	if _, err := f.upstream(); err != nil || f == (envoyTLSFlags{}) {
		return nil, err
	}
	pair, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return nil, fmt.Errorf("--envoy-tls-cert-file %s, --envoy-tls-key-file %s: %w", f.certFile, f.keyFile, err)
	}
	pem, err := os.ReadFile(f.caFile)
	if err != nil {
		return nil, fmt.Errorf("--envoy-tls-ca-file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--envoy-tls-ca-file %s holds no PEM certificate", f.caFile)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}, RootCAs: roots}
	return []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(cfg))}, nil
}

// checkSinkTLSAgrees refuses, when one process runs the control plane and the sink, a sink
// that requires mutual TLS while Envoy's sink cluster would speak plaintext, or the reverse:
// either way no telemetry would arrive.
func checkSinkTLSAgrees(server mtls.Config, envoy *xds.UpstreamTLS) error {
	switch {
	case server.Enabled() && envoy == nil:
		return errors.New("--tls-cert-file makes the sink require mutual TLS: set --envoy-tls-cert-file, --envoy-tls-key-file and --envoy-tls-ca-file so that Envoy's sink cluster presents a certificate")
	case !server.Enabled() && envoy != nil:
		return errors.New("--envoy-tls-cert-file makes Envoy speak TLS to the sink, which serves plaintext without --tls-cert-file, --tls-key-file and --tls-client-ca-file")
	}
	return nil
}
