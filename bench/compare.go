package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
)

// Config is a comparison: which binaries, where they run, and the traffic.
type Config struct {
	EdgetelBin, PeerBin string // PeerBin empty: edgetel alone
	Core                int    // both sides' core (taskset); -1 for no pinning
	Dir                 string // configs and process logs
	Streams             int
	// PeerStreams is the peer's streams when it differs (0: Streams): see docs/performance.md
	// on why the peer's counts are exact with one stream only.
	PeerStreams int
	Rate        float64
	Duration    time.Duration
	MaxEntries  uint64
	// Protocols of edgetel to run (ALS, OTLP); the peer always takes OTLP.
	Protocols  []string
	CorpusSize int
	// BelowSaturation, when above 0, reruns an edgetel side that dropped entries at the
	// maximum rate at that fraction of the rate it then counted: the highest rate it
	// sustains, found from below (ALS never makes Envoy wait, so at the maximum rate the
	// sink sheds what it cannot take, and counts it).
	BelowSaturation float64
	MarkerEvery     time.Duration
	// Rounds runs every side this many times, in turn (edgetel, the peer, edgetel, ...),
	// so that a shared machine's slow minutes fall on every side alike; the ratios are
	// then taken within each round and their median reported. 0 is 1.
	Rounds      int
	Sample      func(side string, elapsed time.Duration, rss int64, drops uint64)
	SampleEvery time.Duration
}

// ExampleEdge is the model of the embedded example policies, which `edgetel sink` runs
// when given none.
func ExampleEdge() (*model.Edge, error) {
	ps, err := config.NewDir(examples.Policies(), "examples").Load()
	if err != nil {
		return nil, err
	}
	out := config.Compile(config.Input{Policies: ps})
	return out.Edge, out.Err()
}

// Compare runs every side in turn, alone on its core, with the same traffic.
func Compare(ctx context.Context, cfg Config) ([]Result, error) {
	edge, err := ExampleEdge()
	if err != nil {
		return nil, err
	}
	run, err := newRun(edge, cfg)
	if err != nil {
		return nil, err
	}
	var sides []Side
	for _, p := range cfg.Protocols {
		sides = append(sides, EdgetelSide(cfg, p))
	}
	if cfg.PeerBin != "" {
		sides = append(sides, PeerSide(cfg, edge))
	}
	var out []Result
	for round := 1; round <= max(cfg.Rounds, 1); round++ {
		for _, s := range sides {
			res, err := measureSide(ctx, cfg, run, s)
			for i := range res {
				res[i].Round = round
			}
			out = append(out, res...)
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// measureSide measures one side, and again below saturation if it dropped at the maximum.
func measureSide(ctx context.Context, cfg Config, r Run, s Side) ([]Result, error) {
	if s.Name == PeerName && cfg.PeerStreams > 0 {
		r.Streams = cfg.PeerStreams
	}
	if cfg.Sample != nil {
		r.Sample = func(el time.Duration, rss int64, drops uint64) { cfg.Sample(s.Name, el, rss, drops) }
	}
	res, err := Measure(ctx, s, r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	out := []Result{res}
	if r.Rate == 0 && res.Drops > 0 && cfg.BelowSaturation > 0 && s.Name != PeerName {
		r.Rate = cfg.BelowSaturation * res.EntriesPerSecond()
		if res, err = Measure(ctx, s, r); err != nil {
			return out, fmt.Errorf("%s at %.0f entries/s: %w", s.Name, r.Rate, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// newRun builds the corpus (every route but the markers' one) and the markers.
func newRun(edge *model.Edge, cfg Config) (Run, error) {
	markerRoute := edge.Routes[len(edge.Routes)-1].Name
	w := sim.Workload{Rate: 1000, Unmatched: sim.DefaultUnmatched, Profiles: map[string]sim.Profile{},
		Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := sim.DefaultProfile(*edge.Route(markerRoute))
	p.Share = 0
	w.Profiles[markerRoute] = p
	corpus, err := sim.NewLoadCorpus(edge, 1, w, cfg.CorpusSize)
	if err != nil {
		return Run{}, err
	}
	// One marker per MarkerEvery at most, and some to spare.
	n := 100
	if cfg.MarkerEvery > 0 {
		n += int(cfg.Duration / cfg.MarkerEvery)
	}
	markers, err := sim.NewMarkers(edge, 2, markerRoute, n)
	if err != nil {
		return Run{}, err
	}
	return Run{Corpus: corpus, Markers: markers, MarkerRoute: markerRoute, Streams: cfg.Streams,
		Rate: cfg.Rate, Duration: cfg.Duration, MaxEntries: cfg.MaxEntries, MarkerEvery: cfg.MarkerEvery,
		Drain: 30 * time.Second, SampleEvery: cfg.SampleEvery}, nil
}

// PeerName is the peer's side name.
const PeerName = "otelcol (OTLP logs)"

// EdgetelSide is `edgetel sink` taking protocol, on free loopback ports.
func EdgetelSide(cfg Config, protocol string) Side {
	name := "edgetel (ALS)"
	if protocol == OTLP {
		name = "edgetel (OTLP logs)"
	}
	return Side{Name: name, Protocol: protocol, Schema: EdgetelSchema, Start: func(ctx context.Context) (*Target, error) {
		grpcAddr, httpAddr, err := freeAddrs()
		if err != nil {
			return nil, err
		}
		t, err := StartTarget(ctx, name, cfg.Core, filepath.Join(cfg.Dir, "edgetel-"+protocol+".log"),
			"http://"+httpAddr+"/readyz", cfg.EdgetelBin, "sink", "--log-level", "warn",
			"--grpc-addr", grpcAddr, "--http-addr", httpAddr)
		if err != nil {
			return nil, err
		}
		t.GRPCAddr, t.MetricsURL = grpcAddr, "http://"+httpAddr+"/metrics"
		return t, nil
	}}
}

// PeerSide is edgetel-otelcol with PeerConfig, on free loopback ports.
func PeerSide(cfg Config, edge *model.Edge) Side {
	return Side{Name: PeerName, Protocol: OTLP, Schema: PeerSchema, Start: func(ctx context.Context) (*Target, error) {
		grpcAddr, httpAddr, err := freeAddrs()
		if err != nil {
			return nil, err
		}
		conf, err := PeerConfig(edge, grpcAddr, httpAddr)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(cfg.Dir, "otelcol.yaml")
		if err := os.WriteFile(path, conf, 0o644); err != nil {
			return nil, err
		}
		t, err := StartTarget(ctx, PeerName, cfg.Core, filepath.Join(cfg.Dir, "otelcol.log"),
			"http://"+httpAddr+"/metrics", cfg.PeerBin, "--config", "file:"+path)
		if err != nil {
			return nil, err
		}
		t.GRPCAddr, t.MetricsURL = grpcAddr, "http://"+httpAddr+"/metrics"
		// The exporter serves before the receiver listens: wait for both.
		if err := waitDial(ctx, grpcAddr); err != nil {
			t.Stop()
			return nil, fmt.Errorf("%s: %w\n%s", PeerName, err, t.LogTail())
		}
		return t, nil
	}}
}

func waitDial(ctx context.Context, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("gRPC port %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddrs returns two loopback addresses whose ports were free a moment ago.
func freeAddrs() (string, string, error) {
	var out [2]string
	for i := range out {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		out[i] = "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		defer ln.Close()
	}
	return out[0], out[1], nil
}
