// Package mtls is the server side of edgetel's optional mutual TLS, shared by its two gRPC
// ports (the xDS server's and the sink's): a certificate and key to present, a CA that every
// client certificate must chain to, all read from files — a kubernetes.io/tls Secret mounted
// into the pod, which cert-manager renews in place. The files are read again when they
// change, at the next handshake, so a renewal needs no restart.
package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ErrInvalidConfig is wrapped by every error about the configuration or its files.
var ErrInvalidConfig = errors.New("invalid TLS configuration")

// Config is where the server's certificate, its key and the clients' CA are. The zero
// Config is plaintext, the default; otherwise all three files are required.
type Config struct {
	// CertFile is the server's certificate chain, PEM (tls.crt of the Secret).
	CertFile string
	// KeyFile is its private key, PEM (tls.key).
	KeyFile string
	// ClientCAFile holds the CA certificates, PEM, that a client's certificate must chain
	// to (ca.crt); a client without one is refused.
	ClientCAFile string
}

// Enabled reports whether c asks for TLS.
func (c Config) Enabled() bool { return c != Config{} }

// Validate reports a configuration that is neither plaintext nor complete, naming the
// flags that set the missing files. It does not read them: NewReloader does.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	for _, f := range []struct{ flag, path string }{
		{"--tls-cert-file", c.CertFile}, {"--tls-key-file", c.KeyFile}, {"--tls-client-ca-file", c.ClientCAFile},
	} {
		if f.path == "" {
			errs = append(errs, fmt.Errorf("%w: %s is required with mutual TLS (set all of --tls-cert-file, --tls-key-file and --tls-client-ca-file, or none)", ErrInvalidConfig, f.flag))
		}
	}
	return errors.Join(errs...)
}

// ServerOptions are the gRPC server options that make a server require mutual TLS as c
// says, or none when c is plaintext. log receives the reloads.
func (c Config) ServerOptions(log *slog.Logger) ([]grpc.ServerOption, error) {
	if !c.Enabled() {
		return nil, nil
	}
	r, err := NewReloader(c, log)
	if err != nil {
		return nil, err
	}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(r.TLSConfig()))}, nil
}

// Reloader holds the TLS configuration built from a Config's files and builds it again when
// a file changed since: it looks at each handshake, which on long-lived gRPC streams is rare
// enough that three stat calls cost nothing.
type Reloader struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	current *tls.Config
	seen    [3]os.FileInfo // of the files current (or the last failed attempt) was read from
}

// NewReloader reads the files once; any problem with them is an error that names the file.
func NewReloader(c Config, log *slog.Logger) (*Reloader, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if !c.Enabled() {
		return nil, fmt.Errorf("%w: no files given", ErrInvalidConfig)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{cfg: c, log: log}
	seen, err := r.stat()
	if err != nil {
		return nil, err
	}
	if r.current, err = load(c); err != nil {
		return nil, err
	}
	r.seen = seen
	return r, nil
}

// TLSConfig is the server configuration to hand to gRPC: every handshake gets the
// configuration of the files as they are now.
func (r *Reloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return r.config(), nil },
	}
}

// config returns the configuration in force, read again if a file changed. A change that
// does not load (a renewal half written, a key that does not match) keeps the last good
// configuration and is logged once; the next change is tried again.
func (r *Reloader) config() *tls.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen, err := r.stat()
	if err != nil || !r.changed(seen) {
		return r.current
	}
	r.seen = seen
	cfg, err := load(r.cfg)
	if err != nil {
		r.log.Error("tls: the changed certificate files do not load; the previous ones stay in use", "error", err)
		return r.current
	}
	r.current = cfg
	r.log.Info("tls: certificate files reloaded", "cert", r.cfg.CertFile, "clientCA", r.cfg.ClientCAFile)
	return r.current
}

// stat looks at the three files through their paths, following symbolic links: a mounted
// Secret is updated by swapping a link to a new directory.
func (r *Reloader) stat() ([3]os.FileInfo, error) {
	var out [3]os.FileInfo
	for i, p := range []string{r.cfg.CertFile, r.cfg.KeyFile, r.cfg.ClientCAFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return out, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		out[i] = fi
	}
	return out, nil
}

func (r *Reloader) changed(now [3]os.FileInfo) bool {
	for i, fi := range now {
		old := r.seen[i]
		if !os.SameFile(old, fi) || !old.ModTime().Equal(fi.ModTime()) || old.Size() != fi.Size() {
			return true
		}
	}
	return false
}

// load builds the server configuration: TLS 1.2 or later, the certificate, and client
// certificates required and verified against the CA.
func load(c Config) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate %s (--tls-cert-file) and key %s (--tls-key-file): %w", ErrInvalidConfig, c.CertFile, c.KeyFile, err)
	}
	pem, err := os.ReadFile(c.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("%w: client CA (--tls-client-ca-file): %w", ErrInvalidConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: client CA %s (--tls-client-ca-file) holds no PEM certificate", ErrInvalidConfig, c.ClientCAFile)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		NextProtos:   []string{"h2"},
	}, nil
}
