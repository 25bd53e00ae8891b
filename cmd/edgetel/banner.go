package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgetel/edgetel/internal/serve"
)

// banner prints where to look once everything listens.
func banner(cmd *cobra.Command, f runFlags, h halves, http *serve.HTTP) func(context.Context) error {
	return func(context.Context) error {
		w := cmd.OutOrStdout()
		base := "http://" + dialable(http.Addr().String())
		fmt.Fprintf(w, "\nedgetel is running. Where to look:\n")
		fmt.Fprintf(w, "  status page  %s/   (SLOs, burn, budget, bad requests, config diagnostics)\n", base)
		fmt.Fprintf(w, "  metrics      %s/metrics   (SLIs, burn rates, budget; OpenMetrics with exemplars)\n", base)
		fmt.Fprintf(w, "  readiness    %s/readyz\n", base)
		if h.sink {
			fmt.Fprintf(w, "  sink         %s   (gRPC: Envoy access-log and metrics services, OTLP logs and traces)\n", dialable(f.grpcAddr))
		}
		if h.xds {
			fmt.Fprintf(w, "  xDS          %s   (gRPC: ADS for Envoy; `edgetel render bootstrap` prints a bootstrap)\n", dialable(f.xdsAddr))
		}
		if h.simulate && f.sim.enabled {
			fmt.Fprintf(w, "  simulator    %d Envoy nodes at %.0f req/s; checkout's incident starts in 2 minutes\n", f.sim.nodes, f.sim.rate)
		}
		fmt.Fprintf(w, "  try          curl -s %s/metrics | grep 'edgetel_slo_burn_rate{.*checkout'\n", base)
		fmt.Fprintf(w, "Stop with Ctrl-C.\n\n")
		return nil
	}
}
