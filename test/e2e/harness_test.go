package e2e

import (
	"testing"

	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/model"
)

func exampleEdge(t testing.TB) *model.Edge { return sinktest.ExampleEdge(t) }

func startSink(t testing.TB, edge *model.Edge) *sinktest.Sink { return sinktest.Start(t, edge) }
