package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/mtls"
	"github.com/edgetel/edgetel/internal/serve"
	"github.com/edgetel/edgetel/sink"
	"github.com/edgetel/edgetel/ui"
	"github.com/edgetel/edgetel/xds"
)

// halves says which parts a command runs.
type halves struct {
	xds, sink, simulate bool
}

type runFlags struct {
	source   sourceFlags
	grpcAddr string
	httpAddr string
	xdsAddr  string
	sim      simFlags
	sink     sink.Config
	// tls is the server side of mutual TLS on both gRPC ports; envoyTLS where Envoys find
	// their client certificate, for the sink's cluster.
	tls      mtls.Config
	envoyTLS envoyTLSFlags
	// Links from the status page; none when empty.
	jaegerURL, grafanaURL string
	// pprof serves Go's profiles on the HTTP port (/debug/pprof/).
	pprof bool
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the control plane and the sink in one process (and, with --simulate, an Envoy fleet)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHalves(cmd, f, halves{xds: true, sink: true, simulate: f.sim.enabled})
		},
	}
	f.register(cmd, halves{xds: true, sink: true, simulate: true})
	return cmd
}

func newSinkCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "sink",
		Short: "Run the telemetry sink: Envoy access logs in, SLIs and burn rates out",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHalves(cmd, f, halves{sink: true})
		},
	}
	f.register(cmd, halves{sink: true})
	return cmd
}

func newXDSCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "xds",
		Short: "Run the xDS control plane: policies compiled to Envoy config over ADS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHalves(cmd, f, halves{xds: true})
		},
	}
	f.register(cmd, halves{xds: true})
	return cmd
}

func (f *runFlags) register(cmd *cobra.Command, h halves) {
	f.source.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&f.httpAddr, "http-addr", ":9464", "HTTP address: the status page at /, /metrics, /healthz, /readyz")
	fs.StringVar(&f.jaegerURL, "jaeger-url", "", "Jaeger UI base URL the status page links trace IDs to (e.g. http://localhost:16686)")
	fs.StringVar(&f.grafanaURL, "grafana-url", "", "Grafana base URL the status page links to (Explore, dashboards)")
	fs.BoolVar(&f.pprof, "debug-pprof", false, "serve Go's runtime profiles at /debug/pprof/ on the HTTP port (for profiling; leave off where the port is reachable by others)")
	registerServerTLS(fs, &f.tls)
	if h.sink {
		fs.StringVar(&f.grpcAddr, "grpc-addr", sink.DefaultGRPCAddr, "the sink's gRPC address: Envoy's access-log and metrics services, OTLP traces")
		fs.StringVar(&f.sink.Loki.URL, "loki-url", "", "Loki's base URL (http://host:3100) to push access logs to; none when empty")
		fs.StringVar(&f.sink.Jaeger.Endpoint, "jaeger-endpoint", "", "Jaeger's OTLP/gRPC address (host:4317) to export spans to; none when empty")
	}
	if h.xds {
		fs.StringVar(&f.xdsAddr, "xds-addr", xds.DefaultListenAddress, "the xDS (ADS) server's gRPC address")
		f.envoyTLS.register(fs, "the sink's cluster (served over CDS)")
	}
	if h.simulate {
		fs.BoolVar(&f.sim.enabled, "simulate", false, "also run a simulated Envoy fleet sending to the sink")
		f.sim.register(fs, false)
	}
}

// runHalves wires the chosen parts around one policy store and one HTTP port, and serves
// until interrupted.
func runHalves(cmd *cobra.Command, f runFlags, h halves) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	http := serve.NewHTTP(f.httpAddr, reg)
	if f.pprof {
		http.HandlePprof()
	}
	var appliers []config.Applier
	var parts []named
	var eps config.KubeTarget
	sinkTLS, err := f.envoyTLS.upstream()
	if err != nil {
		return err
	}
	if h.xds && h.sink {
		if err := checkSinkTLSAgrees(f.tls, sinkTLS); err != nil {
			return err
		}
	}

	if h.xds {
		x, err := xds.NewServer(xds.Config{ListenAddress: f.xdsAddr, Logger: slog.Default(), TLS: f.tls, SinkTLS: sinkTLS})
		if err != nil {
			return err
		}
		if err := x.Register(reg); err != nil {
			return err
		}
		appliers = append(appliers, config.ApplierFunc(x.PublishEdge)) // validating: first
		parts = append(parts, named{"xds", x})
		eps = x
	}
	var s *sink.Sink
	var status ui.StatusSource
	var bad *ui.BadRequestLog
	if h.sink {
		var err error
		bad = ui.NewBadRequestLog(ui.DefaultBadRequestsPerRoute)
		cfg := f.sink
		cfg.GRPCAddr, cfg.Tap, cfg.TLS = f.grpcAddr, bad, f.tls
		if s, err = sink.New(cfg, nil, slog.Default()); err != nil {
			return err
		}
		reg.MustRegister(s.Collectors()...)
		http.AddReadyCheck("sink", s.Ready)
		appliers = append(appliers, s, bad)
		parts = append(parts, named{"sink", s})
		status = s.Accountant()
	}
	store := config.NewStore(appliers...)
	reg.MustRegister(store)
	src, err := policySourceComponent(f.source, store, eps)
	if err != nil {
		return err
	}
	page, err := ui.New(ui.Config{Status: status, Policies: store, Metrics: reg, BadRequests: bad,
		JaegerURL: f.jaegerURL, GrafanaURL: f.grafanaURL, Logger: slog.Default()})
	if err != nil {
		return err
	}
	http.Handle("/", page.Handler())
	// Policies first, so that the first model is in force before anything listens.
	parts = append([]named{src}, parts...)
	parts = append(parts, named{"ui", page}, named{"http", http})
	if h.simulate && f.sim.enabled {
		f.sim.tls = f.envoyTLS // the simulated fleet stands for the Envoys
		parts = append(parts, simComponent(f.sim, store, func() string { return dialable(s.Addr().String()) }))
	}
	parts = append(parts, named{"banner", funcComponent{start: banner(cmd, f, h, http)}})
	return serveUntilDone(cmd.Context(), parts)
}
