// Package examples embeds the example policy set that edgetel runs with when no policies are
// given: the edge of a small shop, one file per team as it would sit next to each service.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed policies
var policies embed.FS

// Policies returns the example policy files.
func Policies() fs.FS {
	sub, err := fs.Sub(policies, "policies")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
