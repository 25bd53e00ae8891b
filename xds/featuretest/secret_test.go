package featuretest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	sotw "github.com/envoyproxy/go-control-plane/pkg/client/sotw/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgetel/edgetel/model"
)

// edgeSecret is what the TLS listener of tlsEdge loads over SDS.
const edgeSecret = "edge/edge-cert"

// tlsEdge is the example edge with a second listener that terminates TLS with edgeSecret.
func tlsEdge(t *testing.T) *model.Edge {
	e := exampleEdge(t)
	e.Listeners = append(e.Listeners, model.Listener{Name: "https", Address: "0.0.0.0", Port: 10443,
		TLS: &model.TLS{SecretName: edgeSecret}})
	return e
}

// certificate returns a self-signed certificate for host and its private key, PEM-encoded.
func certificate(t *testing.T, host string) model.Secret {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host},
		DNSNames: []string{host}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return model.Secret{
		CertChain:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}
}

// sameCertificate fails t unless got is the secret name holding want's bytes, inline.
func sameCertificate(t *testing.T, got *tlsv3.Secret, name string, want model.Secret) {
	t.Helper()
	c := got.GetTlsCertificate()
	if got.GetName() != name || string(c.GetCertificateChain().GetInlineBytes()) != string(want.CertChain) ||
		string(c.GetPrivateKey().GetInlineBytes()) != string(want.PrivateKey) {
		t.Errorf("received secret %q with %d certificate and %d key bytes; want %q with the certificate set",
			got.GetName(), len(c.GetCertificateChain().GetInlineBytes()), len(c.GetPrivateKey().GetInlineBytes()), name)
	}
}

func TestAnEnvoyStreamAskingForItsListenersSecretReceivesTheCertificate(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.PublishEdge(tlsEdge(t)); err != nil {
		t.Fatal(err)
	}
	cert := certificate(t, "shop.example.com")
	e.srv.SetSecrets(map[string]model.Secret{edgeSecret: cert, "edge/other": certificate(t, "other.example.com")})

	s := e.stream("edge-1")
	r := s.subscribe(resource.SecretType, edgeSecret)
	got := unpack[*tlsv3.Secret](t, r.GetResources())
	if len(got) != 1 {
		t.Fatalf("received %d secrets, want the one asked for", len(got))
	}
	sameCertificate(t, got[0], edgeSecret, cert)
	s.ack(r, edgeSecret)

	renewed := certificate(t, "shop.example.com")
	e.srv.SetSecrets(map[string]model.Secret{edgeSecret: renewed})
	r = s.recv()
	got = unpack[*tlsv3.Secret](t, r.GetResources())
	if len(got) != 1 {
		t.Fatalf("received %d secrets after a renewal, want 1", len(got))
	}
	sameCertificate(t, got[0], edgeSecret, renewed)
	s.ack(r, edgeSecret)
	s.nothing()
}

func TestGoControlPlanesSotwClientFetchesTheSecretWithItsBytes(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.PublishEdge(tlsEdge(t)); err != nil {
		t.Fatal(err)
	}
	cert := certificate(t, "shop.example.com")
	e.srv.SetSecrets(map[string]model.Secret{edgeSecret: cert})
	conn, err := grpc.NewClient(e.srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); conn.Close() })
	client := sotw.NewADSClient(ctx, &corev3.Node{Id: "edge-1", UserAgentName: "envoy"}, resource.SecretType)
	if err := client.InitConnect(conn); err != nil {
		t.Fatal(err)
	}
	c := &sotwClients{t: t, clients: map[string]sotw.ADSClient{resource.SecretType: client}}
	r, err := c.fetch(resource.SecretType)
	if err != nil {
		t.Fatal(err)
	}
	got := unpack[*tlsv3.Secret](t, r.Resources)
	if len(got) != 1 {
		t.Fatalf("received %d secrets, want 1", len(got))
	}
	sameCertificate(t, got[0], edgeSecret, cert)
}

func TestASecretThatAListenerLoadsIsReportedMissingUntilItIsSet(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.PublishEdge(tlsEdge(t)); err != nil {
		t.Fatal(err)
	}
	if got := e.metric("edgetel_xds_missing_secrets", ""); got != 1 {
		t.Errorf("edgetel_xds_missing_secrets = %v with the secret not set; want 1", got)
	}
	s := e.stream("edge-1")
	s.request(resource.SecretType, []string{edgeSecret}, "", "", nil)
	s.nothing() // warming, not failing: the stream waits

	broken := certificate(t, "shop.example.com")
	broken.PrivateKey = certificate(t, "shop.example.com").PrivateKey // not the certificate's key
	e.srv.SetSecrets(map[string]model.Secret{edgeSecret: broken})
	s.nothing()
	if got := e.metric("edgetel_xds_missing_secrets", ""); got != 1 {
		t.Errorf("edgetel_xds_missing_secrets = %v with a key that does not match; want 1", got)
	}

	cert := certificate(t, "shop.example.com")
	e.srv.SetSecrets(map[string]model.Secret{edgeSecret: cert})
	got := unpack[*tlsv3.Secret](t, s.recv().GetResources())
	if len(got) != 1 {
		t.Fatalf("received %d secrets once set, want 1", len(got))
	}
	sameCertificate(t, got[0], edgeSecret, cert)
	if got := e.metric("edgetel_xds_missing_secrets", ""); got != 0 {
		t.Errorf("edgetel_xds_missing_secrets = %v once set; want 0", got)
	}

	if err := e.srv.PublishEdge(exampleEdge(t)); err != nil { // no TLS listener any more
		t.Fatal(err)
	}
	e.srv.SetSecrets(nil)
	if got := e.metric("edgetel_xds_missing_secrets", ""); got != 0 {
		t.Errorf("edgetel_xds_missing_secrets = %v with no listener loading it; want 0", got)
	}
}

func TestARejectedSecretIsNotResentUntilItChanges(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.PublishEdge(tlsEdge(t)); err != nil {
		t.Fatal(err)
	}
	e.srv.SetSecrets(map[string]model.Secret{edgeSecret: certificate(t, "shop.example.com")})
	s := e.stream("edge-1")
	first := s.subscribe(resource.SecretType, edgeSecret)
	s.nack(first, "", errors.New("rejected by the test"), edgeSecret)
	s.nothing()
	if got := e.metric("edgetel_xds_nacks_total", "secret"); got != 1 {
		t.Errorf("edgetel_xds_nacks_total{type=\"secret\"} = %v; want 1", got)
	}

	renewed := certificate(t, "shop.example.com")
	e.srv.SetSecrets(map[string]model.Secret{edgeSecret: renewed})
	next := s.recv()
	sameCertificate(t, unpack[*tlsv3.Secret](t, next.GetResources())[0], edgeSecret, renewed)
	s.ack(next, edgeSecret)
	s.nothing()
}

func TestAnUnusableCertificateIsNotServed(t *testing.T) {
	e := newEnv(t)
	cert := certificate(t, "shop.example.com")
	for _, tt := range []struct {
		name   string
		secret model.Secret
	}{
		{"a key that is not the certificate's", model.Secret{CertChain: cert.CertChain, PrivateKey: certificate(t, "x").PrivateKey}},
		{"no PEM at all", model.Secret{CertChain: []byte("cert"), PrivateKey: []byte("key")}},
		{"no key", model.Secret{CertChain: cert.CertChain}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.srv.SetSecrets(map[string]model.Secret{edgeSecret: tt.secret})
			s := e.stream("edge-1")
			s.request(resource.SecretType, []string{edgeSecret}, "", "", nil)
			s.nothing()
		})
	}
}
