package sim

import (
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"

	"github.com/edgetel/edgetel/model"
)

// Defaults, Envoy's own where Envoy has one.
const (
	DefaultAddress     = "127.0.0.1:4317"
	DefaultNodes       = 3
	DefaultNodeCluster = "edge"
	DefaultRate        = 200
	DefaultUnmatched   = 0.005
	// LogName is the access logger's log_name; it must equal what the xDS translator
	// configures (xds.AccessLogName), since the sink sees it on every stream.
	LogName = "edgetel"
	// DefaultBufferSize and DefaultFlushInterval are Envoy's defaults for the buffered gRPC
	// access logger's buffer_size_bytes and buffer_flush_interval.
	DefaultBufferSize       = 16384
	DefaultFlushInterval    = time.Second
	DefaultReconnectBackoff = 250 * time.Millisecond
	DefaultMaxSlowTraceIDs  = 10000

	// ALSProtocol and OTLPProtocol are the values of Config.AccessLogProtocol.
	ALSProtocol  = "als"
	OTLPProtocol = "otlp"

	maxReconnectBackoff = 10 * time.Second
	maxNodes            = 10000
)

// Clock says how a running fleet paces its traffic (see the package doc).
type Clock int

// Clocks.
const (
	// RealTime sends each request when the wall clock reaches its start time: the demo.
	RealTime Clock = iota
	// Virtual sends as fast as the streams take it, start times on the generators' clocks.
	Virtual
)

func (c Clock) String() string {
	switch c {
	case RealTime:
		return "real-time"
	case Virtual:
		return "virtual"
	}
	return fmt.Sprintf("Clock(%d)", int(c))
}

// Config configures a Fleet. Start from DefaultConfig: New fills the fields whose zero value
// means nothing (address, nodes, rate, sizes, intervals, protocol) with their defaults, but
// takes Unmatched, Incidents, Stats and Spans as given, so that a test can turn them off.
type Config struct {
	// Address is the sink's gRPC address, host:port.
	Address string
	// Nodes is the number of Envoy nodes, each with one stream. Their IDs are
	// NodeCluster-0, NodeCluster-1, ...; NodeCluster is Envoy's --service-cluster.
	Nodes       int
	NodeCluster string
	// Edge is the model whose routes the fleet serves.
	Edge *model.Edge
	// Seed makes the traffic repeatable; with Epoch set, entries are identical run to run.
	Seed uint64
	// Workload of the whole fleet: Rate is across the fleet, each node serving Rate/Nodes.
	Workload
	// Clock paces Start; SendN always runs on the virtual clock.
	Clock Clock
	// BufferSize and FlushInterval are Envoy's buffer_size_bytes and buffer_flush_interval.
	BufferSize    int
	FlushInterval time.Duration
	// ReconnectBackoff is the first wait before a new stream after one broke; it doubles
	// on each failure, up to 10 s, and resets once a message is sent.
	ReconnectBackoff time.Duration
	// MaxSlowTraceIDs bounds each latency objective's set in the truth.
	MaxSlowTraceIDs int
	// AccessLogProtocol is how the nodes send their access logs: ALSProtocol (the default,
	// Envoy's gRPC access logger) or OTLPProtocol (Envoy's OpenTelemetry access logger, the
	// same entries as OTLP log records: see LogAttributes and FillLogRecord).
	AccessLogProtocol string
	// Stats makes each node stream its cluster counters to the sink's metrics service every
	// StatsFlushInterval (Envoy's stats_flush_interval), as NodeStats describes.
	Stats              bool
	StatsFlushInterval time.Duration
	// Spans makes each node export the spans of its sampled requests over OTLP, batched as
	// Envoy's OpenTelemetry tracer batches them (see SpanBuffer).
	Spans bool
	// DialOptions are added to the insecure transport credentials the fleet dials with.
	DialOptions []grpc.DialOption
}

// DefaultConfig is the demo's fleet for edge: three nodes, 200 requests/s, half a percent
// unmatched, DemoIncident when edge has its route, and stats and spans besides the access
// logs, all sent to the one address.
func DefaultConfig(edge *model.Edge) Config {
	c := Config{Edge: edge, Seed: 1, Stats: true, Spans: true}
	if edge != nil && edge.AccessLog.Protocol == model.AccessLogOTLP {
		c.AccessLogProtocol = OTLPProtocol // the logger the control plane configures
	}
	c = c.withDefaults()
	c.Unmatched = DefaultUnmatched
	if in := DemoIncident(); edge != nil && edge.Route(in.Route) != nil {
		c.Incidents = []Incident{in}
	}
	return c
}

func (c Config) withDefaults() Config {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Address == "" {
		c.Address = DefaultAddress
	}
	if c.NodeCluster == "" {
		c.NodeCluster = DefaultNodeCluster
	}
	if c.AccessLogProtocol == "" {
		c.AccessLogProtocol = ALSProtocol
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	set(&c.Nodes, DefaultNodes)
	set(&c.BufferSize, DefaultBufferSize)
	set(&c.MaxSlowTraceIDs, DefaultMaxSlowTraceIDs)
	setDur(&c.FlushInterval, DefaultFlushInterval)
	setDur(&c.ReconnectBackoff, DefaultReconnectBackoff)
	setDur(&c.StatsFlushInterval, DefaultStatsFlushInterval)
	return c
}

// ErrInvalidConfig is wrapped by every problem Config.Validate finds.
var ErrInvalidConfig = errors.New("invalid simulator config")

// Validate reports every problem of the config, zero fields standing for their defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		bad("Address %q is not host:port: %v", c.Address, err)
	}
	if c.Nodes < 1 || c.Nodes > maxNodes {
		bad("Nodes is %d, want 1 to %d", c.Nodes, maxNodes)
	}
	if c.Clock != RealTime && c.Clock != Virtual {
		bad("Clock is %v, want RealTime or Virtual", c.Clock)
	}
	if c.BufferSize < 0 || c.FlushInterval < 0 || c.ReconnectBackoff < 0 || c.MaxSlowTraceIDs < 0 {
		bad("BufferSize %d, FlushInterval %v, ReconnectBackoff %v and MaxSlowTraceIDs %d must not be negative",
			c.BufferSize, c.FlushInterval, c.ReconnectBackoff, c.MaxSlowTraceIDs)
	}
	if c.StatsFlushInterval < 0 {
		bad("StatsFlushInterval %v must not be negative", c.StatsFlushInterval)
	}
	if c.AccessLogProtocol != ALSProtocol && c.AccessLogProtocol != OTLPProtocol {
		bad("AccessLogProtocol is %q, want %q or %q", c.AccessLogProtocol, ALSProtocol, OTLPProtocol)
	}
	if c.Edge == nil {
		bad("Edge is nil: the fleet needs a model to serve")
	} else if err := c.Workload.Validate(c.Edge); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidConfig, err))
	}
	return errors.Join(errs...)
}

// nodeID names node i.
func (c *Config) nodeID(i int) string { return fmt.Sprintf("%s-%d", c.NodeCluster, i) }

// nodeWorkload is node i's share of the fleet's workload.
func (c *Config) nodeWorkload() Workload {
	w := c.Workload
	w.Rate /= float64(c.Nodes)
	return w
}
