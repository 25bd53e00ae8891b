package sim

import (
	"testing"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/model"
)

// exampleEdge is the model of the embedded example shop.
func exampleEdge(t testing.TB) *model.Edge {
	t.Helper()
	ps, err := config.NewDir(examples.Policies(), "examples").Load()
	if err != nil {
		t.Fatalf("loading the example policies: %v", err)
	}
	out := config.Compile(config.Input{Policies: ps})
	if err := out.Err(); err != nil {
		t.Fatalf("compiling the example policies: %v", err)
	}
	return out.Edge
}
