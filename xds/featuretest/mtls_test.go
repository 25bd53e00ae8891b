package featuretest

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgetel/edgetel/internal/mtls"
	"github.com/edgetel/edgetel/internal/tlstest"
	"github.com/edgetel/edgetel/xds"
)

// envoyFiles is where the Envoys of these tests would find their client certificate.
var envoyFiles = &xds.UpstreamTLS{CertFile: "/etc/edgetel/tls/tls.crt", KeyFile: "/etc/edgetel/tls/tls.key", CAFile: "/etc/edgetel/tls/ca.crt"}

// startMTLS starts a server that requires mutual TLS with the files f and publishes the
// example edge, its sink over mutual TLS too.
func startMTLS(t *testing.T, f tlstest.Files) *xds.Server {
	t.Helper()
	srv, err := xds.NewServer(xds.Config{
		ListenAddress: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		TLS:     mtls.Config{CertFile: f.Cert, KeyFile: f.Key, ClientCAFile: f.CA},
		SinkTLS: envoyFiles,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.PublishEdge(exampleEdge(t)); err != nil {
		t.Fatal(err)
	}
	startServer(t, srv)
	return srv
}

// fetchClusters asks for every cluster over a new connection with client (nil:
// plaintext), as Envoy's first ADS request does, and returns the answer and the common name
// of the certificate the server presented.
func fetchClusters(t *testing.T, srv *xds.Server, client *tls.Config) (*discoveryv3.DiscoveryResponse, string, error) {
	t.Helper()
	creds := insecure.NewCredentials()
	var cn string
	if client != nil {
		client.VerifyConnection = func(cs tls.ConnectionState) error {
			cn = cs.PeerCertificates[0].Subject.CommonName
			return nil
		}
		creds = credentials.NewTLS(client)
	}
	conn, err := grpc.NewClient(srv.Addr().String(), grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ads, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := ads.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "edge-0"}, TypeUrl: resource.ClusterType}); err != nil {
		return nil, "", err
	}
	resp, err := ads.Recv()
	if err != nil {
		return nil, "", err
	}
	return resp, cn, nil
}

func TestTheXDSServerServesOnlyClientsWithACertificateOfItsCA(t *testing.T) {
	ca, stranger := tlstest.NewCA(t, "ca"), tlstest.NewCA(t, "stranger")
	srv := startMTLS(t, tlstest.Write(t, t.TempDir(), ca.Server(t, "edgetel-xds"), ca))
	tests := []struct {
		name   string
		client *tls.Config
		ok     bool
	}{
		{"an Envoy with a certificate from the CA gets the clusters", tlstest.ClientConfig(ca.Client(t, "edge-0"), ca), true},
		{"an Envoy without a certificate is refused", tlstest.ClientConfig(tlstest.Pair{}, ca), false},
		{"an Envoy with a certificate from another CA is refused", tlstest.ClientConfig(stranger.Client(t, "edge-0"), ca), false},
		{"an Envoy speaking plaintext is refused", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _, err := fetchClusters(t, srv, tt.client)
			if (err == nil) != tt.ok {
				t.Fatalf("fetching clusters: %v; want success: %t", err, tt.ok)
			}
			if tt.ok {
				checkSinkOverTLS(t, resp)
			}
		})
	}
}

// checkSinkOverTLS fails the test unless resp holds the sink's cluster with the TLS socket.
func checkSinkOverTLS(t *testing.T, resp *discoveryv3.DiscoveryResponse) {
	t.Helper()
	for _, a := range resp.GetResources() {
		var c clusterv3.Cluster
		if err := a.UnmarshalTo(&c); err != nil {
			t.Fatal(err)
		}
		if c.GetName() == xds.SinkCluster {
			if c.GetTransportSocket().GetName() != "envoy.transport_sockets.tls" {
				t.Errorf("the sink's cluster has transport socket %v; want TLS", c.GetTransportSocket())
			}
			return
		}
	}
	t.Errorf("no sink cluster among %d clusters", len(resp.GetResources()))
}

func TestARenewedCertificateIsPresentedToTheNextConnection(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	dir := t.TempDir()
	srv := startMTLS(t, tlstest.Write(t, dir, ca.Server(t, "first"), ca))
	client := tlstest.ClientConfig(ca.Client(t, "edge-0"), ca)
	if _, cn, err := fetchClusters(t, srv, client); err != nil || cn != "first" {
		t.Fatalf("before the renewal: %q, %v; want the first certificate", cn, err)
	}
	tlstest.Write(t, dir, ca.Server(t, "second"), ca)
	if _, cn, err := fetchClusters(t, srv, client); err != nil || cn != "second" {
		t.Errorf("after the renewal: %q, %v; want the second certificate", cn, err)
	}
}
