// Package deploy embeds the generated CustomResourceDefinitions, so that `edgetel render crds`
// and the tests install exactly what `make generate` wrote.
package deploy

import (
	"embed"
	"io/fs"
)

//go:embed crds/*.yaml
var crds embed.FS

// CRDs returns the CRD manifests, one file per resource, sorted by file name.
func CRDs() fs.FS {
	sub, err := fs.Sub(crds, "crds")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
