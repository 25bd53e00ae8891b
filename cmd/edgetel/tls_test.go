package main

import (
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"
)

var envoyTLSArgs = []string{
	"--envoy-tls-cert-file", "/etc/edgetel/tls/tls.crt",
	"--envoy-tls-key-file", "/etc/edgetel/tls/tls.key",
	"--envoy-tls-ca-file", "/etc/edgetel/tls/ca.crt",
}

func TestRenderBootstrapWithEnvoyTLSSecuresTheXDSAndSinkClusters(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		want  map[string]string // cluster → SNI; absent: plaintext
	}{
		{"both clusters present Envoy's certificate", nil, map[string]string{"edgetel_xds": "xds.edgetel", "edgetel_sink": ""}},
		{"--sink-tls=false leaves the sink plaintext", []string{"--sink-tls=false"}, map[string]string{"edgetel_xds": "xds.edgetel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"render", "bootstrap", "--xds-address", "xds.edgetel:18000"}, envoyTLSArgs...)
			out, err := execute(t, append(args, tt.extra...)...)
			if err != nil {
				t.Fatal(err)
			}
			b := readBootstrap(t, out)
			for _, c := range b.GetStaticResources().GetClusters() {
				sni, secured := tt.want[c.GetName()]
				ts := c.GetTransportSocket()
				if secured != (ts != nil) {
					t.Errorf("cluster %s: transport socket %v; want TLS: %t", c.GetName(), ts, secured)
					continue
				}
				if ts == nil {
					continue
				}
				var ctx tlsv3.UpstreamTlsContext
				if err := ts.GetTypedConfig().UnmarshalTo(&ctx); err != nil {
					t.Fatal(err)
				}
				if ctx.GetSni() != sni || ctx.GetCommonTlsContext().GetValidationContext().GetTrustedCa().GetFilename() != "/etc/edgetel/tls/ca.crt" {
					t.Errorf("cluster %s: %v; want SNI %q and the CA file", c.GetName(), &ctx, sni)
				}
			}
		})
	}
}

func readBootstrap(t *testing.T, out string) *bootstrapv3.Bootstrap {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("the bootstrap does not read back as an Envoy Bootstrap: %v", err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Error(err)
	}
	return &b
}

func TestTLSFlagsThatCannotWorkAreRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"render bootstrap refuses an Envoy certificate without its key and CA", []string{"render", "bootstrap", "--envoy-tls-cert-file", "/c"}, "set all three or none"},
		{"render bootstrap refuses a relative path on Envoy's disk", []string{"render", "bootstrap", "--envoy-tls-cert-file", "c", "--envoy-tls-key-file", "/k", "--envoy-tls-ca-file", "/ca"}, "absolute path"},
		{"run refuses a mutual-TLS sink that Envoy would reach in plaintext", []string{"run", "--http-addr=127.0.0.1:0", "--tls-cert-file", "/c", "--tls-key-file", "/k", "--tls-client-ca-file", "/ca"}, "--envoy-tls-cert-file"},
		{"run refuses Envoy TLS to a plaintext sink", append([]string{"run", "--http-addr=127.0.0.1:0"}, envoyTLSArgs...), "serves plaintext"},
		{"sink refuses a certificate without a client CA", []string{"sink", "--http-addr=127.0.0.1:0", "--tls-cert-file", "/c", "--tls-key-file", "/k"}, "--tls-client-ca-file is required"},
		{"xds names the certificate file it cannot read", []string{"xds", "--http-addr=127.0.0.1:0", "--tls-cert-file", "/nonexistent/tls.crt", "--tls-key-file", "/k", "--tls-client-ca-file", "/ca"}, "/nonexistent/tls.crt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := execute(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("err = %v; want one saying %q", err, tt.says)
			}
		})
	}
}
