package mtls_test

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/internal/mtls"
	"github.com/edgetel/edgetel/internal/tlstest"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  mtls.Config
		says []string // every flag the error must name; none: valid
	}{
		{name: "the zero config is plaintext and valid", cfg: mtls.Config{}},
		{name: "all three files make a valid config", cfg: mtls.Config{CertFile: "c", KeyFile: "k", ClientCAFile: "ca"}},
		{name: "a certificate without its key is refused", cfg: mtls.Config{CertFile: "c", ClientCAFile: "ca"}, says: []string{"--tls-key-file"}},
		{name: "a certificate without a client CA is refused", cfg: mtls.Config{CertFile: "c", KeyFile: "k"}, says: []string{"--tls-client-ca-file"}},
		{name: "a client CA alone is refused, naming both missing flags", cfg: mtls.Config{ClientCAFile: "ca"}, says: []string{"--tls-cert-file", "--tls-key-file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (len(tt.says) == 0) || (err != nil && !errors.Is(err, mtls.ErrInvalidConfig)) {
				t.Fatalf("Validate() = %v; want an error: %t", err, len(tt.says) > 0)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Validate() = %v; want it to name %s", err, s)
				}
			}
		})
	}
}

func TestNewReloaderNamesTheFileThatDoesNotLoad(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	f := tlstest.Write(t, t.TempDir(), ca.Server(t, "server"), ca)
	other := tlstest.Write(t, t.TempDir(), ca.Server(t, "other"), ca)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  mtls.Config
		says string
	}{
		{"a missing certificate file is named", mtls.Config{CertFile: "/nonexistent/tls.crt", KeyFile: f.Key, ClientCAFile: f.CA}, "/nonexistent/tls.crt"},
		{"a key that is not the certificate's is refused", mtls.Config{CertFile: f.Cert, KeyFile: other.Key, ClientCAFile: f.CA}, "--tls-key-file"},
		{"a client CA file without certificates is named", mtls.Config{CertFile: f.Cert, KeyFile: f.Key, ClientCAFile: garbage}, garbage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mtls.NewReloader(tt.cfg, nil)
			if !errors.Is(err, mtls.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("NewReloader = %v; want ErrInvalidConfig naming %s", err, tt.says)
			}
		})
	}
}

// serve accepts TLS connections on loopback with r's configuration and completes each
// handshake, until the test ends.
func serve(t *testing.T, r *mtls.Reloader) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if c.(*tls.Conn).Handshake() == nil {
					_, _ = c.Read(make([]byte, 1)) // until the client closes
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// handshake dials addr with cfg and returns the server's leaf certificate's common name.
func handshake(addr string, cfg *tls.Config) (string, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	// In TLS 1.3 the server checks the client's certificate after the client's handshake
	// returns: a refusal arrives with the first read.
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
		return "", err
	}
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestTheServerRequiresAClientCertificateFromItsCA(t *testing.T) {
	ca, stranger := tlstest.NewCA(t, "ca"), tlstest.NewCA(t, "stranger")
	f := tlstest.Write(t, t.TempDir(), ca.Server(t, "server"), ca)
	r, err := mtls.NewReloader(mtls.Config{CertFile: f.Cert, KeyFile: f.Key, ClientCAFile: f.CA}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	tests := []struct {
		name   string
		client *tls.Config
		ok     bool
	}{
		{"a client with a certificate from the CA is let in", tlstest.ClientConfig(ca.Client(t, "envoy"), ca), true},
		{"a client without a certificate is refused", tlstest.ClientConfig(tlstest.Pair{}, ca), false},
		{"a client with a certificate from another CA is refused", tlstest.ClientConfig(stranger.Client(t, "envoy"), ca), false},
		{"a client limited to TLS 1.1 is refused", func() *tls.Config {
			c := tlstest.ClientConfig(ca.Client(t, "envoy"), ca)
			c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			return c
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handshake(addr, tt.client)
			if (err == nil) != tt.ok {
				t.Errorf("handshake: %v; want success: %t", err, tt.ok)
			}
		})
	}
}

func TestRenewedFilesAreUsedByTheNextHandshake(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	dir := t.TempDir()
	f := tlstest.Write(t, dir, ca.Server(t, "first"), ca)
	r, err := mtls.NewReloader(mtls.Config{CertFile: f.Cert, KeyFile: f.Key, ClientCAFile: f.CA}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	client := tlstest.ClientConfig(ca.Client(t, "envoy"), ca)
	if cn, err := handshake(addr, client); err != nil || cn != "first" {
		t.Fatalf("before the renewal: %q, %v; want the first certificate", cn, err)
	}

	tlstest.Write(t, dir, ca.Server(t, "second"), ca)
	if cn, err := handshake(addr, client); err != nil || cn != "second" {
		t.Errorf("after the renewal: %q, %v; want the second certificate", cn, err)
	}

	// A renewal half written (a key that is not the certificate's) keeps the last good pair.
	if err := os.WriteFile(f.Key, ca.Server(t, "third").KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if cn, err := handshake(addr, client); err != nil || cn != "second" {
		t.Errorf("with a mismatched key: %q, %v; want the second certificate still", cn, err)
	}

	// A new CA (and a server certificate of its own) is the clients' CA from then on.
	next := tlstest.NewCA(t, "next")
	tlstest.Write(t, dir, next.Server(t, "fourth"), next)
	trustsBoth := tlstest.ClientConfig(ca.Client(t, "envoy"), ca)
	trustsBoth.RootCAs.AddCert(next.Cert)
	if _, err := handshake(addr, trustsBoth); err == nil {
		t.Error("a client certificate of the old CA is still let in after the CA changed")
	}
	if cn, err := handshake(addr, tlstest.ClientConfig(next.Client(t, "envoy"), next)); err != nil || cn != "fourth" {
		t.Errorf("a client of the new CA: %q, %v; want the fourth certificate", cn, err)
	}
}
