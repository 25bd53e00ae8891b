package sink_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/internal/testenv"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/sink"
)

func TestACleanStopAccountsForEverythingReceived(t *testing.T) {
	edge := sinktest.ExampleEdge(t)
	s, err := sink.New(sink.Config{GRPCAddr: "127.0.0.1:0"}, edge, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := sim.DefaultConfig(edge)
	cfg.Address = s.Addr().String()
	fleet, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30000
	if err := fleet.SendN(ctx, n); err != nil {
		t.Fatal(err)
	}
	// Stop at once: what sits in the receiver's queue must still be counted.
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var counted uint64
	for _, rs := range s.Accountant().Status() {
		for _, c := range rs.Requests {
			counted += c
		}
	}
	if counted != n {
		t.Errorf("%d requests accounted for after a clean stop, %d were sent", counted, n)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("a second Shutdown: %v", err)
	}
}

func TestASinkCanStopWithoutStartingAndFreesItsPort(t *testing.T) {
	ctx := context.Background()
	idle, err := sink.New(sink.Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown without Start: %v", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	for i := range 2 {
		s, err := sink.New(sink.Config{GRPCAddr: addr}, sinktest.ExampleEdge(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatalf("start %d on %s: %v", i+1, addr, err)
		}
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnInvalidConfigIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  sink.Config
	}{
		{"a negative StopGrace", sink.Config{StopGrace: -time.Second}},
		{"a window below HTTP/2's default, which gRPC would take as none", sink.Config{WindowBytes: sink.MinWindowBytes - 1}},
		{"a negative window", sink.Config{WindowBytes: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sink.New(tc.cfg, nil, nil); !errors.Is(err, sink.ErrInvalidConfig) {
				t.Errorf("New = %v, want ErrInvalidConfig", err)
			}
		})
	}
}
