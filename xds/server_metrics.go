package xds

import (
	"context"
	"log/slog"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics is the server's self-telemetry.
type metrics struct {
	nacks    *prometheus.CounterVec
	pushes   *prometheus.CounterVec
	nodes    prometheus.Gauge
	rejected prometheus.Counter
	config   *prometheus.GaugeVec
	missing  prometheus.Gauge
}

// typeLabels bounds the type label: a client may ask for any type URL.
var typeLabels = map[string]string{
	resource.ListenerType: "listener",
	resource.RouteType:    "route",
	resource.ClusterType:  "cluster",
	resource.EndpointType: "endpoint",
	resource.SecretType:   "secret",
}

func typeLabel(typeURL string) string {
	if l, ok := typeLabels[typeURL]; ok {
		return l
	}
	return "other"
}

func newMetrics() *metrics {
	m := &metrics{
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgetel_xds_nacks_total",
			Help: "Responses that a client rejected (NACKed), by resource type.",
		}, []string{"type"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgetel_xds_pushes_total",
			Help: "Responses sent to clients, by resource type.",
		}, []string{"type"}),
		nodes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgetel_xds_connected_nodes",
			Help: "Distinct node IDs with at least one open xDS stream.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgetel_xds_publish_rejected_total",
			Help: "Configurations refused before publishing because they failed translation or validation.",
		}),
		config: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgetel_xds_config_info",
			Help: "The configuration in force (the last good one): 1 for its version.",
		}, []string{"version"}),
		missing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgetel_xds_missing_secrets",
			Help: "Secrets that a listener in force loads over SDS and the server does not have: such a listener stays warming.",
		}),
	}
	for _, l := range typeLabels { // every series exists from the start, at 0
		m.nacks.WithLabelValues(l)
		m.pushes.WithLabelValues(l)
	}
	return m
}

func (m *metrics) setVersion(v string) {
	m.config.Reset()
	m.config.WithLabelValues(v).Set(1)
}

// Register registers the server's metrics with reg.
func (s *Server) Register(reg prometheus.Registerer) error {
	m := s.metrics
	for _, c := range []prometheus.Collector{m.nacks, m.pushes, m.nodes, m.rejected, m.config, m.missing} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// callbacks watch the streams: which nodes are connected, what each was sent, and what it
// rejected.
type callbacks struct {
	log *slog.Logger
	m   *metrics

	mu      sync.Mutex
	streams map[int64]*streamState
	nodes   map[string]int // open streams per node ID
}

type streamState struct {
	node string
	// sent is the last response of each type URL, to name the version a NACK rejects.
	sent map[string]sent
}

type sent struct{ nonce, version string }

func newCallbacks(log *slog.Logger, m *metrics) *callbacks {
	return &callbacks{log: log, m: m, streams: map[int64]*streamState{}, nodes: map[string]int{}}
}

func (c *callbacks) funcs() serverv3.Callbacks {
	return serverv3.CallbackFuncs{
		StreamRequestFunc:  c.onRequest,
		StreamResponseFunc: c.onResponse,
		StreamClosedFunc:   c.onClosed,
	}
}

func (c *callbacks) onRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	c.mu.Lock()
	st := c.streams[id]
	if st == nil {
		st = &streamState{node: req.GetNode().GetId(), sent: map[string]sent{}}
		c.streams[id] = st
		c.nodes[st.node]++
		c.m.nodes.Set(float64(len(c.nodes)))
	}
	last := st.sent[req.GetTypeUrl()]
	c.mu.Unlock()
	if req.GetErrorDetail() == nil {
		return nil
	}
	c.m.nacks.WithLabelValues(typeLabel(req.GetTypeUrl())).Inc()
	rejectedVersion := "unknown"
	if last.nonce != "" && last.nonce == req.GetResponseNonce() {
		rejectedVersion = last.version
	}
	// One line per rejection: the server does not resend a rejected version, so a NACK
	// comes once per node and version, not in a loop.
	c.log.Warn("xds: a node rejected its configuration", "node", st.node, "type", typeLabel(req.GetTypeUrl()),
		"rejected_version", rejectedVersion, "version_in_use", req.GetVersionInfo(), "error", req.GetErrorDetail().GetMessage())
	return nil
}

func (c *callbacks) onResponse(_ context.Context, id int64, req *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	c.m.pushes.WithLabelValues(typeLabel(req.GetTypeUrl())).Inc()
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.streams[id]; st != nil {
		st.sent[req.GetTypeUrl()] = sent{nonce: resp.GetNonce(), version: resp.GetVersionInfo()}
	}
}

func (c *callbacks) onClosed(id int64, _ *corev3.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[id]
	if st == nil {
		return
	}
	delete(c.streams, id)
	if c.nodes[st.node]--; c.nodes[st.node] == 0 {
		delete(c.nodes, st.node)
	}
	c.m.nodes.Set(float64(len(c.nodes)))
}
