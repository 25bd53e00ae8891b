package xds

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

func TestServerConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		valid bool
	}{
		{name: "the zero config is valid", cfg: Config{}, valid: true},
		{name: "an address with a port of 0 is valid", cfg: Config{ListenAddress: "127.0.0.1:0"}, valid: true},
		{name: "an address without a port is refused", cfg: Config{ListenAddress: "localhost"}},
		{name: "a keepalive under a second is refused", cfg: Config{KeepaliveTime: time.Millisecond}},
		{name: "a negative keepalive timeout is refused", cfg: Config{KeepaliveTimeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.valid != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidServerConfig)) {
				t.Errorf("Validate() = %v; want valid=%t", err, tt.valid)
			}
		})
	}
}

func TestTheZeroConfigListensOnTheDefaultXDSPort(t *testing.T) {
	if got := (Config{}).withDefaults().ListenAddress; got != ":18000" {
		t.Errorf("default ListenAddress = %q; want :18000", got)
	}
}

// quietServerConfig is a configuration that listens on addr and logs nothing.
func quietServerConfig(addr string) Config {
	return Config{ListenAddress: addr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func shutdownServer(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownIsSafeWithoutStartAndTwice(t *testing.T) {
	s, err := NewServer(quietServerConfig("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	shutdownServer(t, s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	shutdownServer(t, s)
	shutdownServer(t, s)
}

func TestAServerStartedTwiceSaysSo(t *testing.T) {
	s, err := NewServer(quietServerConfig("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer shutdownServer(t, s)
	if err := s.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start = %v; want ErrStarted", err)
	}
}

// A leaked listener would hold the port: the second start on the same address fails.
func TestAServerStartsStopsAndStartsAgainOnTheSamePort(t *testing.T) {
	s, err := NewServer(quietServerConfig("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	shutdownServer(t, s)
	if s.Addr() != nil {
		t.Errorf("Addr = %v after Shutdown; want nil", s.Addr())
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Shutdown", addr)
	}

	again, err := NewServer(quietServerConfig(addr))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := again.Start(context.Background()); err != nil {
			t.Fatalf("starting again on %s: %v", addr, err)
		}
		shutdownServer(t, again)
	}
}

func TestStartReportsAPortInUse(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	s, err := NewServer(quietServerConfig(lis.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil {
		shutdownServer(t, s)
		t.Fatal("Start on a port in use succeeded")
	}
	shutdownServer(t, s)
}
