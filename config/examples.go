package config

import (
	"fmt"

	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/model"
)

// ExamplesDir is how the embedded example policies are named in messages.
const ExamplesDir = "examples/policies"

// Examples returns the source of the embedded example policies.
func Examples() *Dir { return NewDir(examples.Policies(), ExamplesDir) }

// ExampleEdge compiles the embedded example policies: the model the demo, the simulator's
// defaults and many tests run on.
func ExampleEdge() (*model.Edge, error) {
	ps, err := Examples().Load()
	if err != nil {
		return nil, err
	}
	out := Compile(Input{Policies: ps})
	if err := out.Err(); err != nil {
		return nil, fmt.Errorf("the embedded examples: %w", err)
	}
	return out.Edge, nil
}
