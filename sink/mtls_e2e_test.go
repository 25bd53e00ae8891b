package sink_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgetel/edgetel/internal/mtls"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/internal/tlstest"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/sink"
)

// startMTLSSink starts a sink whose gRPC port requires a client certificate of ca.
func startMTLSSink(t *testing.T, ca *tlstest.CA) *sinktest.Sink {
	t.Helper()
	f := tlstest.Write(t, t.TempDir(), ca.Server(t, "edgetel-sink"), ca)
	return sinktest.StartWith(t, sinktest.ExampleEdge(t), sink.Config{
		TLS: mtls.Config{CertFile: f.Cert, KeyFile: f.Key, ClientCAFile: f.CA},
	})
}

func TestTheSinkCountsAccessLogsSentOverMutualTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	r := startMTLSSink(t, ca)
	cfg := sim.DefaultConfig(sinktest.ExampleEdge(t))
	cfg.Address = r.Addr().String()
	// Added after the fleet's own (plaintext) credentials, so these win.
	cfg.DialOptions = []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(tlstest.ClientConfig(ca.Client(t, "edge-0"), ca)))}
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 2000
	if err := fleet.SendN(ctx, n); err != nil {
		t.Fatal(err)
	}
	received := func(fams map[string]*dto.MetricFamily) float64 {
		got, _ := sinktest.Value(fams, "edgetel_als_entries_received_total", map[string]string{"protocol": "http"})
		return got
	}
	got := received(r.ScrapeUntil(t, func(fams map[string]*dto.MetricFamily) bool { return received(fams) == n }))
	if got != n {
		t.Errorf("the sink counted %v access-log entries over mutual TLS; the simulator sent %d", got, n)
	}
}

func TestTheSinkRefusesClientsWithoutACertificateOfItsCA(t *testing.T) {
	ca, stranger := tlstest.NewCA(t, "ca"), tlstest.NewCA(t, "stranger")
	r := startMTLSSink(t, ca)
	tests := []struct {
		name   string
		client *tls.Config // nil: plaintext
		ok     bool
	}{
		{"an Envoy with a certificate of the CA is let in", tlstest.ClientConfig(ca.Client(t, "edge-0"), ca), true},
		{"an Envoy speaking plaintext is refused", nil, false},
		{"an Envoy without a certificate is refused", tlstest.ClientConfig(tlstest.Pair{}, ca), false},
		{"an Envoy with a certificate of another CA is refused", tlstest.ClientConfig(stranger.Client(t, "edge-0"), ca), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sendOneLog(t, r.Addr().String(), tt.client)
			if (err == nil) != tt.ok {
				t.Errorf("sending an access log: %v; want success: %t", err, tt.ok)
			}
		})
	}
}

// sendOneLog opens an access-log stream as Envoy does, sends one (empty) batch and closes
// it: the answer says whether the sink let the client in.
func sendOneLog(t *testing.T, addr string, client *tls.Config) error {
	t.Helper()
	creds := insecure.NewCredentials()
	if client != nil {
		creds = credentials.NewTLS(client)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := accesslogv3.NewAccessLogServiceClient(conn).StreamAccessLogs(ctx)
	if err != nil {
		return err
	}
	msg := &accesslogv3.StreamAccessLogsMessage{
		Identifier: &accesslogv3.StreamAccessLogsMessage_Identifier{Node: &corev3.Node{Id: "edge-0"}, LogName: "edgetel"},
	}
	if err := stream.Send(msg); err != nil {
		_, err = stream.CloseAndRecv()
		return err
	}
	_, err = stream.CloseAndRecv()
	return err
}
