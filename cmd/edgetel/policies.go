package main

import (
	"os"

	"github.com/edgetel/edgetel/config"
)

// policySource returns the directory source for --policies, or the embedded examples when
// the flag is empty.
func policySource(dir string) *config.Dir {
	if dir == "" {
		return config.Examples()
	}
	return config.NewDir(os.DirFS(dir), dir)
}
