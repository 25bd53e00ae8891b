package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/xds"
)

func newRenderBootstrapCmd() *cobra.Command {
	var (
		policies string
		opts     xds.BootstrapOptions
		flush    time.Duration
		envoyTLS envoyTLSFlags
		sinkTLS  bool
	)
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Print an Envoy bootstrap: ADS from edgetel xds, stats to the sink of the policies",
		Long: "Prints the bootstrap YAML an Envoy of the edge starts with: its node, admin on loopback,\n" +
			"listeners and clusters over ADS from --xds-address, and the metrics-service stats sink\n" +
			"pointed at the sink the EdgeConfig names (counters as deltas, tags as labels).\n" +
			"With --envoy-tls-*, Envoy reaches both over mutual TLS (the sink unless --sink-tls=false).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.StatsFlushInterval = flush
			tls, err := envoyTLS.upstream()
			if err != nil {
				return err
			}
			opts.XDSTLS = tls
			if sinkTLS {
				opts.SinkTLS = tls
			}
			return renderBootstrap(cmd.OutOrStdout(), policySource(policies), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&policies, "policies", "", "directory of policies whose EdgeConfig names the sink (default: the embedded examples)")
	fs.StringVar(&opts.NodeID, "node-id", "edge-0", "the Envoy node ID (also picks its sink endpoint)")
	fs.StringVar(&opts.NodeCluster, "node-cluster", xds.DefaultNodeCluster, "the Envoy node's service cluster")
	fs.StringVar(&opts.XDSAddress, "xds-address", xds.DefaultXDSAddress, "host:port of edgetel xds")
	fs.Uint32Var(&opts.AdminPort, "admin-port", xds.DefaultAdminPort, "admin interface port (loopback only)")
	fs.DurationVar(&flush, "stats-flush-interval", xds.DefaultStatsFlushInterval, "how often Envoy sends stats to the sink")
	envoyTLS.register(fs, "the xDS cluster (and the sink's, see --sink-tls)")
	fs.BoolVar(&sinkTLS, "sink-tls", true, "with --envoy-tls-*, reach the sink over mutual TLS too (as edgetel xds --envoy-tls-* makes its CDS cluster)")
	return cmd
}

func renderBootstrap(w io.Writer, src *config.Dir, opts xds.BootstrapOptions) error {
	ps, err := src.Load()
	if err != nil {
		return err
	}
	out := config.Compile(config.Input{Policies: ps})
	if err := out.Err(); err != nil {
		return fmt.Errorf("policies: %w", err)
	}
	opts.Sink = out.Edge.Sink
	b, err := xds.Bootstrap(opts)
	if err != nil {
		return err
	}
	y, err := xds.YAML(b)
	if err != nil {
		return err
	}
	_, err = w.Write(y)
	return err
}
