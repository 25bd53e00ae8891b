package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgetel/edgetel/internal/version"
)

// errProblems is returned by commands that printed their problems already (validate): the
// exit code says it, nothing more needs printing.
var errProblems = errors.New("problems found")

func exitCode(err error) int {
	if errors.Is(err, errProblems) {
		return 1
	}
	return 2
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "edgetel",
		Short:         "Per-route SLOs for an Envoy edge: xDS control plane and telemetry sink",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var logLevel string
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
			return fmt.Errorf("--log-level: %w", err)
		}
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})))
		return nil
	}
	root.AddCommand(
		newVersionCmd(),
		newValidateCmd(),
		newRenderCmd(),
		newRunCmd(),
		newSinkCmd(),
		newXDSCmd(),
		newSimulateCmd(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "edgetel", version.Version)
		},
	}
}
