package metrics

import (
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// The clusters of testEdge: checkout alone on one, cart and cart-v2 sharing the other.
const (
	checkoutCluster = "ext_127_0_0_1_9004"
	cartCluster     = "ext_127_0_0_1_9003"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC) // on a slot boundary

// testEdge is a model of three routes over two clusters.
func testEdge() *model.Edge {
	return &model.Edge{Routes: []model.Route{
		{Name: "shop/cart", Backend: model.Backend{Cluster: cartCluster, Host: "127.0.0.1", Port: 9003}},
		{Name: "shop/cart-v2", Backend: model.Backend{Cluster: cartCluster, Host: "127.0.0.1", Port: 9003}},
		{Name: "shop/checkout", Backend: model.Backend{Cluster: checkoutCluster, Host: "127.0.0.1", Port: 9004}},
	}}
}

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestStore(t testing.TB, clock *fakeClock) *Store {
	t.Helper()
	s, err := NewStore(Config{}, testEdge(), clock.now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// family is one MetricFamily as Envoy's sink builds it: one per stat.
func family(name string, typ dto.MetricType, metrics ...*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Type: typ.Enum(), Metric: metrics}
}

func label(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: proto.String(name), Value: proto.String(value)}
}

// counter is a counter metric of a cluster, tags as labels, as Envoy flushes it.
func counter(cluster string, v float64, more ...*dto.LabelPair) *dto.Metric {
	return &dto.Metric{
		Label:       append([]*dto.LabelPair{label(ClusterNameLabel, cluster)}, more...),
		Counter:     &dto.Counter{Value: proto.Float64(v)},
		TimestampMs: proto.Int64(t0.UnixMilli()),
	}
}

func gauge(cluster string, v float64) *dto.Metric {
	return &dto.Metric{
		Label:       []*dto.LabelPair{label(ClusterNameLabel, cluster)},
		Gauge:       &dto.Gauge{Value: proto.Float64(v)},
		TimestampMs: proto.Int64(t0.UnixMilli()),
	}
}

// counterFamily and gaugeFamily are a stat of one cluster.
func counterFamily(name, cluster string, v float64) *dto.MetricFamily {
	return family(name, dto.MetricType_COUNTER, counter(cluster, v))
}

func gaugeFamily(name, cluster string, v float64) *dto.MetricFamily {
	return family(name, dto.MetricType_GAUGE, gauge(cluster, v))
}

// message is a flush; node is empty for every message of a stream but the first.
func message(node string, fams ...*dto.MetricFamily) *metricsv3.StreamMetricsMessage {
	m := &metricsv3.StreamMetricsMessage{EnvoyMetrics: fams}
	if node != "" {
		m.Identifier = &metricsv3.StreamMetricsMessage_Identifier{
			Node: &corev3.Node{Id: node, Cluster: "edge", UserAgentName: "envoy"}}
	}
	return m
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// send decodes and applies one message on f, as the receiver does, and returns what the
// decoder dropped.
func send(t testing.TB, f *feed, m *metricsv3.StreamMetricsMessage) [numReasons]int {
	t.Helper()
	d := decoder{cfg: Config{}.withDefaults()}
	var out decoded
	if err := d.decode(mustMarshal(t, m), &out); err != nil {
		t.Fatal(err)
	}
	f.identify(out.node)
	_, unknown := f.apply(out.samples)
	out.dropped[reasonUnknownCluster] += unknown
	return out.dropped
}

// entry is an access-log record of a request that Envoy sent upstream to cluster.
func entry(node, cluster string) als.Record {
	return als.Record{Node: []byte(node), RouteName: []byte("shop/x"), UpstreamCluster: []byte(cluster),
		UpstreamHost: als.HostPort{Host: []byte("127.0.0.1"), Port: 9000, HasPort: true}, Status: 200}
}

func entries(n int, node, cluster string) []als.Record {
	out := make([]als.Record, n)
	for i := range out {
		out[i] = entry(node, cluster)
	}
	return out
}

// clusterStats returns the store's view of one cluster.
func clusterStats(t testing.TB, s *Store, name string) ClusterStats {
	t.Helper()
	for _, c := range s.Clusters() {
		if c.Cluster == name {
			return c
		}
	}
	t.Fatalf("no cluster %s in the store", name)
	return ClusterStats{}
}
