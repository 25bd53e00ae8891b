package xds

import (
	"errors"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/edgetel/edgetel/internal/mtls"
	"github.com/edgetel/edgetel/model"
)

func TestTheSinksServerNameIsADNSName(t *testing.T) {
	tests := []struct {
		name string
		sink model.Sink
		want string
	}{
		{"a Kubernetes sink is named by its Service's cluster DNS name", model.Sink{Service: "edgetel/edgetel-sink", Port: 4317}, "edgetel-sink.edgetel.svc"},
		{"a sink by DNS name is named by it", model.Sink{Host: "sink.internal", Port: 4317}, "sink.internal"},
		{"a sink by IP address sends no server name", model.Sink{Host: "127.0.0.1", Port: 4317}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sinkServerName(tt.sink); got != tt.want {
				t.Errorf("sinkServerName = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestSinkTLSWithoutAFileIsNotTranslated(t *testing.T) {
	_, err := TranslateWith(testEdge(), Options{SinkTLS: &UpstreamTLS{CertFile: "/c", CAFile: "/ca"}})
	if !errors.Is(err, ErrUntranslatable) || !strings.Contains(err.Error(), "keyFile is required") {
		t.Errorf("TranslateWith = %v; want ErrUntranslatable naming keyFile", err)
	}
}

// The transport socket's typed_config is validated like every other embedded Any: a server
// name longer than UpstreamTlsContext allows (255 bytes) is refused.
func TestValidateLooksInsideTheSinksTransportSocket(t *testing.T) {
	res, err := TranslateWith(testEdge(), Options{SinkTLS: envoyTLS})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Validate(); err != nil {
		t.Fatalf("the sink's TLS does not validate: %v", err)
	}
	broken := translated(t)
	for i, c := range broken.Clusters {
		if c.Name == SinkCluster {
			broken.Clusters[i] = withSocket(c, upstreamTLS(envoyTLS, strings.Repeat("a", 300)))
		}
	}
	if err := broken.Validate(); !errors.Is(err, ErrInvalidTypedConfig) || !strings.Contains(err.Error(), "Sni") {
		t.Errorf("Validate = %v; want ErrInvalidTypedConfig about the SNI", err)
	}
}

func TestServerConfigRefusesIncompleteTLS(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		says string
	}{
		{"a server certificate without a client CA is refused", Config{TLS: tlsConfigWithout("ca")}, "--tls-client-ca-file"},
		{"sink TLS without a certificate file is refused", Config{SinkTLS: &UpstreamTLS{KeyFile: "/k", CAFile: "/ca"}}, "sinkTLS: " + ErrInvalidUpstreamTLS.Error() + ": certFile"},
		{"a certificate file that does not exist stops NewServer", Config{TLS: tlsConfigWithout("")}, "/nonexistent/tls.crt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewServer(tt.cfg)
			if !errors.Is(err, ErrInvalidServerConfig) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("NewServer = %v; want ErrInvalidServerConfig saying %q", err, tt.says)
			}
		})
	}
}

func withSocket(c *clusterv3.Cluster, ts *corev3.TransportSocket) *clusterv3.Cluster {
	c.TransportSocket = ts
	return c
}

// tlsConfigWithout is a server TLS configuration of files that do not exist, without the
// one named ("ca"), or complete ("").
func tlsConfigWithout(missing string) mtls.Config {
	c := mtls.Config{CertFile: "/nonexistent/tls.crt", KeyFile: "/nonexistent/tls.key", ClientCAFile: "/nonexistent/ca.crt"}
	if missing == "ca" {
		c.ClientCAFile = ""
	}
	return c
}
