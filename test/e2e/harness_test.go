package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/internal/serve"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sink"
)

// exampleEdge compiles the embedded example policies.
func exampleEdge(t testing.TB) *model.Edge {
	t.Helper()
	ps, err := config.NewDir(examples.Policies(), "examples").Load()
	if err != nil {
		t.Fatal(err)
	}
	out := config.Compile(config.Input{Policies: ps})
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	return out.Edge
}

// runningSink is a sink with its HTTP port on loopback, as `edgetel sink` runs it.
type runningSink struct {
	*sink.Sink
	HTTP *serve.HTTP
}

func startSink(t testing.TB, edge *model.Edge) *runningSink {
	t.Helper()
	s, err := sink.New(sink.Config{GRPCAddr: "127.0.0.1:0"}, edge, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collectors()...)
	h := serve.NewHTTP("127.0.0.1:0", reg)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		_ = s.Shutdown(ctx)
	})
	return &runningSink{Sink: s, HTTP: h}
}
