package main

import (
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/edgetel/edgetel/deploy"
)

func newRenderCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Render what edgetel generates: CRDs, Envoy bootstrap, rules, dashboards",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "crds",
		Short: "Print the EdgeRoute and EdgeConfig CustomResourceDefinitions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return renderCRDs(cmd.OutOrStdout())
		},
	})
	cmd.AddCommand(newRenderBootstrapCmd(), newRenderRulesCmd(), newRenderDashboardsCmd())
	return cmd
}

func renderCRDs(w io.Writer) error {
	files, err := fs.Glob(deploy.CRDs(), "*.yaml")
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := fs.ReadFile(deploy.CRDs(), f)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s", b); err != nil {
			return err
		}
	}
	return nil
}
