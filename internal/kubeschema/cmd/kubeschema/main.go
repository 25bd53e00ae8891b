// Command kubeschema writes kubeconform's JSON schemas for the kinds of a Kubernetes
// swagger.json and of CRD files into one directory (hack/build-kubeconform.sh runs it):
//
//	kubeschema -strict -swagger swagger.json -out DIR [CRD.yaml ...]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/edgetel/edgetel/internal/kubeschema"
)

func main() {
	swagger := flag.String("swagger", "", "Kubernetes api/openapi-spec/swagger.json")
	out := flag.String("out", "", "directory to write the schemas into")
	strict := flag.Bool("strict", false, "reject properties a schema does not list")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "kubeschema: -out is required")
		os.Exit(2)
	}
	if err := run(*swagger, *out, flag.Args(), kubeschema.Options{Strict: *strict}); err != nil {
		fmt.Fprintln(os.Stderr, "kubeschema:", err)
		os.Exit(1)
	}
}

func run(swagger, out string, crds []string, opts kubeschema.Options) error {
	all := kubeschema.Schemas{}
	if swagger != "" {
		data, err := os.ReadFile(swagger)
		if err != nil {
			return err
		}
		s, err := kubeschema.FromSwagger(data, opts)
		if err != nil {
			return err
		}
		all = s
	}
	for _, f := range crds {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		s, err := kubeschema.FromCRDs(data, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := all.Merge(s); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return kubeschema.Write(out, all)
}
