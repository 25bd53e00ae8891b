package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/xds"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate DIR",
		Short: "Check the policies in DIR as a pull-request pipeline would",
		Long: "Reads every *.yaml and *.yml file under DIR, validates each policy and the set as a whole\n" +
			"(conflicts), and prints one line per problem. Exit code 0: all accepted; 1: problems.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return validate(cmd.OutOrStdout(), policySource(args[0]))
		},
	}
}

func validate(w io.Writer, src *config.Dir) error {
	policies, loadErr := src.Load()
	out := config.Compile(config.Input{Policies: policies})
	n := printProblems(w, loadErr) + printProblems(w, out.Err())
	// What is accepted must also make Envoy configuration that validates, as the xDS server
	// would check it before publishing.
	if res, err := xds.Translate(out.Edge); err != nil {
		n += printProblems(w, err)
	} else {
		n += printProblems(w, res.Validate())
	}
	if n > 0 {
		fmt.Fprintf(w, "%s; %s would be in force\n", plural(n, "problem"), plural(len(out.Edge.Routes), "route"))
		return errProblems
	}
	fmt.Fprintf(w, "ok: %s, %s\n", plural(len(policies), "policy"), plural(len(out.Edge.Routes), "route"))
	return nil
}

// printProblems prints each joined error on a line of its own and returns how many.
func printProblems(w io.Writer, err error) int {
	if err == nil {
		return 0
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		n := 0
		for _, e := range j.Unwrap() {
			n += printProblems(w, e)
		}
		return n
	}
	fmt.Fprintln(w, err)
	return 1
}

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case noun == "policy":
		return fmt.Sprintf("%d policies", n)
	default:
		return fmt.Sprintf("%d %ss", n, noun)
	}
}
