package main

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/sim"
)

type simFlags struct {
	enabled    bool
	sink       string
	nodes      int
	rate       float64
	seed       uint64
	noIncident bool
	protocol   string
	tls        envoyTLSFlags
}

func (f *simFlags) register(fs *pflag.FlagSet, standalone bool) {
	if standalone {
		fs.StringVar(&f.sink, "sink", sim.DefaultAddress, "the sink's gRPC address")
		f.tls.register(fs, "the fleet")
	}
	fs.IntVar(&f.nodes, "nodes", sim.DefaultNodes, "simulated Envoy nodes, one access-log stream each")
	fs.Float64Var(&f.rate, "rate", sim.DefaultRate, "requests per second across the fleet")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the traffic: the same seed sends the same requests")
	fs.BoolVar(&f.noIncident, "no-incident", false, "leave out the scheduled checkout incident")
	fs.StringVar(&f.protocol, "access-log-protocol", "", "how the fleet sends access logs: als (Envoy's gRPC access-log service) or otlp (Envoy's OpenTelemetry access logger); default: as the global policy's accessLog.protocol says")
}

func newSimulateCmd() *cobra.Command {
	var f simFlags
	var src sourceFlags
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Run a simulated Envoy fleet that sends access logs to a sink",
		Long: "Emulates N Envoy nodes, each with one access-log stream, serving the routes of the policies\n" +
			"with per-route rates, errors and latencies, and a scheduled incident on shop/checkout\n" +
			"(from minute 2, for 5 minutes: 20% 5xx, 4x slower).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store := config.NewStore()
			part := simComponent(f, store, func() string { return f.sink })
			policies := dirSource(src, store)
			return serveUntilDone(cmd.Context(), []named{policies, part})
		},
	}
	f.register(cmd.Flags(), true)
	cmd.Flags().StringVar(&src.policies, "policies", "", "directory of policies whose routes the fleet serves (default: the embedded examples)")
	return cmd
}

// simComponent runs a fleet on the model in force in store when it starts.
func simComponent(f simFlags, store *config.Store, addr func() string) named {
	var fleet *sim.Fleet
	return named{"simulator", funcComponent{
		start: func(ctx context.Context) error {
			edge := store.State().Edge
			if edge == nil {
				return errors.New("no policies in force to simulate")
			}
			cfg := sim.DefaultConfig(edge)
			cfg.Address, cfg.Nodes, cfg.Rate, cfg.Seed = addr(), f.nodes, f.rate, f.seed
			if f.protocol != "" {
				cfg.AccessLogProtocol = f.protocol
			}
			var err error
			if cfg.DialOptions, err = f.tls.dialOptions(); err != nil {
				return err
			}
			if f.noIncident {
				cfg.Incidents = nil
			}
			if fleet, err = sim.New(cfg); err != nil {
				return err
			}
			slog.Info("simulated fleet started", "sink", cfg.Address, "nodes", cfg.Nodes, "rate", cfg.Rate, "incidents", len(cfg.Incidents))
			return fleet.Start(ctx)
		},
		stop: func(ctx context.Context) error {
			if fleet == nil {
				return nil
			}
			err := fleet.Shutdown(ctx)
			t := fleet.Truth()
			slog.Info("simulated fleet stopped", "sent", t.Sent, "lost", t.Lost)
			return err
		},
	}}
}

// dialable turns a listen address (":4317", "[::]:4317") into one a client can dial.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
