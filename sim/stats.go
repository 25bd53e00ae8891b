package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// DefaultStatsFlushInterval is Envoy's stats_flush_interval, and edgetel's bootstrap's.
const DefaultStatsFlushInterval = 10 * time.Second

// The cluster stats a simulated request moves, by the names Envoy's metrics-service sink
// gives them with emit_tags_as_labels: the tag-extracted name, the cluster as the label
// envoy.cluster_name (package metrics, names.go, has the sources).
const (
	statUpstreamRequests = "cluster.upstream_rq_total"
	statRetries          = "cluster.upstream_rq_retry"
	statTimeouts         = "cluster.upstream_rq_timeout"
	statPendingOverflows = "cluster.upstream_rq_pending_overflow"
	clusterNameTag       = "envoy.cluster_name"
)

// NodeStats is one simulated Envoy node's cluster counters, as far as its requests imply
// them, and flushes them as Envoy's metrics-service sink does with report_counters_as_deltas
// and emit_tags_as_labels: every flush carries one MetricFamily per counter the node has
// used, named by its tag-extracted name, the cluster as a label, the value the increase
// since the previous flush (zero included: Envoy sends every used counter).
//
// Observe counts a request as Envoy's router and connection pool do:
//   - upstream_rq_total counts each attempt attached to an upstream connection: one per
//     request that reached an upstream, one more per retry (Request.Attempts);
//   - upstream_rq_retry counts the retries, Attempts - 1;
//   - upstream_rq_timeout counts the requests whose route timeout fired (UT);
//   - upstream_rq_pending_overflow counts the requests a circuit breaker refused (UO), which
//     never reach upstream_rq_total; nor do connection failures (UF), which the simulator
//     does not retry;
//   - a request that matched no route (NR) has no cluster and counts nowhere.
//
// So upstream_rq_total - upstream_rq_retry of a cluster equals the requests of the cluster
// whose entry has an upstream host and neither UF nor UO: what the sink's completeness
// ratio compares. A NodeStats is not safe for concurrent use.
type NodeStats struct {
	counts  map[statKey]uint64 // since the node started; a key is there once used
	flushed map[statKey]uint64 // at the previous flush
}

type statKey struct{ cluster, name string }

// NewNodeStats returns the counters of a node that has served nothing yet.
func NewNodeStats() *NodeStats {
	return &NodeStats{counts: map[statKey]uint64{}, flushed: map[statKey]uint64{}}
}

// Observe counts the request r, which the node served, whether or not its access-log entry
// reaches the sink.
func (s *NodeStats) Observe(r *Request) {
	if r.Route == nil {
		return
	}
	c := r.Route.Backend.Cluster
	if !r.Cause.upstreamTried() {
		if r.Cause == CauseOverflow {
			s.counts[statKey{c, statPendingOverflows}]++
		}
		return
	}
	s.counts[statKey{c, statUpstreamRequests}] += uint64(r.Attempts)
	if r.Attempts > 1 {
		s.counts[statKey{c, statRetries}] += uint64(r.Attempts - 1)
	}
	if r.Cause == CauseTimeout {
		s.counts[statKey{c, statTimeouts}]++
	}
}

// Total returns the count of a cluster stat since the node started, e.g.
// Total("ext_127_0_0_1_9004", "cluster.upstream_rq_total"): the truth a test compares with.
func (s *NodeStats) Total(cluster, stat string) uint64 { return s.counts[statKey{cluster, stat}] }

// Flush returns the message of a stats flush at time at: the deltas since the previous
// flush, families sorted by cluster and name. It has no identifier: a stream adds it to its
// first message (see StatsStream).
func (s *NodeStats) Flush(at time.Time) *metricsv3.StreamMetricsMessage {
	keys := make([]statKey, 0, len(s.counts))
	for k := range s.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b statKey) int {
		return cmp.Or(cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.name, b.name))
	})
	msg := &metricsv3.StreamMetricsMessage{EnvoyMetrics: make([]*dto.MetricFamily, 0, len(keys))}
	for _, k := range keys {
		delta := s.counts[k] - s.flushed[k]
		s.flushed[k] = s.counts[k]
		msg.EnvoyMetrics = append(msg.EnvoyMetrics, counterFamily(k, delta, at))
	}
	return msg
}

func counterFamily(k statKey, delta uint64, at time.Time) *dto.MetricFamily {
	return &dto.MetricFamily{
		Name: proto.String(k.name),
		Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{
			Label:       []*dto.LabelPair{{Name: proto.String(clusterNameTag), Value: proto.String(k.cluster)}},
			Counter:     &dto.Counter{Value: proto.Float64(float64(delta))},
			TimestampMs: proto.Int64(at.UnixMilli()),
		}},
	}
}

// StatsIdentifier is what the first message of a node's metrics-service stream carries: the
// node, as in the access-log stream's Identifier, so that the sink pairs the two.
func StatsIdentifier(nodeID, nodeCluster string) *metricsv3.StreamMetricsMessage_Identifier {
	return &metricsv3.StreamMetricsMessage_Identifier{
		Node: &corev3.Node{Id: nodeID, Cluster: nodeCluster, UserAgentName: "envoy"},
	}
}

// StatsStream is a node's metrics-service stream as Envoy's sink keeps it: one long-lived
// StreamMetrics call, the identifier in its first message only.
type StatsStream struct {
	stream grpc.ClientStreamingClient[metricsv3.StreamMetricsMessage, metricsv3.StreamMetricsResponse]
	id     *metricsv3.StreamMetricsMessage_Identifier
}

// OpenStatsStream opens a stream on cc (a *grpc.ClientConn to the sink) for the node id.
// ctx bounds the stream's whole life.
func OpenStatsStream(ctx context.Context, cc grpc.ClientConnInterface, id *metricsv3.StreamMetricsMessage_Identifier) (*StatsStream, error) {
	stream, err := metricsv3.NewMetricsServiceClient(cc).StreamMetrics(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening a metrics-service stream: %w", err)
	}
	return &StatsStream{stream: stream, id: id}, nil
}

// Send sends one flush. The first carries the identifier; msg itself is not modified.
func (s *StatsStream) Send(msg *metricsv3.StreamMetricsMessage) error {
	if s.id != nil {
		msg = &metricsv3.StreamMetricsMessage{Identifier: s.id, EnvoyMetrics: msg.GetEnvoyMetrics()}
		s.id = nil
	}
	if err := s.stream.Send(msg); err != nil {
		if _, rerr := s.stream.CloseAndRecv(); rerr != nil {
			err = errors.Join(err, rerr) // Send says io.EOF; the status says why
		}
		return fmt.Errorf("sending stats: %w", err)
	}
	return nil
}

// Close ends the stream cleanly. Once it returns nil, the server has read every message
// sent on it.
func (s *StatsStream) Close() error {
	if _, err := s.stream.CloseAndRecv(); err != nil {
		return fmt.Errorf("closing the metrics-service stream: %w", err)
	}
	return nil
}
