// Command edgetel is the one binary of edgetel: the xDS control plane, the telemetry sink,
// the Envoy fleet simulator and the generators, as subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errProblems) {
			fmt.Fprintln(os.Stderr, "edgetel:", err)
		}
		os.Exit(exitCode(err))
	}
}
