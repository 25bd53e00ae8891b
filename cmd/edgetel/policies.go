package main

import (
	"os"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
)

// policySource returns the directory source for --policies, or the embedded examples when
// the flag is empty.
func policySource(dir string) *config.Dir {
	if dir == "" {
		return config.NewDir(examples.Policies(), "examples/policies")
	}
	return config.NewDir(os.DirFS(dir), dir)
}
