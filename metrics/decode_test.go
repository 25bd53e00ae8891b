package metrics

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// got is a decoded message in a comparable form.
type got struct {
	Node    string
	Samples []gotSample
	Dropped map[string]int
}

type gotSample struct {
	Cluster string
	Stat    stat
	Value   uint64
}

func view(d *decoded) got {
	g := got{Node: string(d.node), Dropped: map[string]int{}}
	for _, s := range d.samples {
		g.Samples = append(g.Samples, gotSample{string(s.cluster), s.stat, s.value})
	}
	for r, n := range d.dropped {
		if n > 0 {
			g.Dropped[reasonNames[r]] = n
		}
	}
	return g
}

func decodeWith(t *testing.T, cfg Config, wire []byte) (got, error) {
	t.Helper()
	var out decoded
	err := (&decoder{cfg: cfg.withDefaults()}).decode(wire, &out)
	return view(&out), err
}

// A flush as Envoy sends it with emit_tags_as_labels and counters as deltas: one family per
// stat, most of no interest to edgetel, histograms as a summary and a histogram family of the
// same name, the bootstrap's own clusters among the rest.
func TestDecodeKeepsTheStatsEdgetelUsesOfAFlushAsEnvoySendsIt(t *testing.T) {
	histogram := &dto.Metric{Label: []*dto.LabelPair{label(ClusterNameLabel, checkoutCluster)},
		Histogram: &dto.Histogram{SampleCount: proto.Uint64(3), SampleSum: proto.Float64(12),
			Bucket: []*dto.Bucket{{UpperBound: proto.Float64(5), CumulativeCount: proto.Uint64(2)}}}}
	summary := &dto.Metric{Label: []*dto.LabelPair{label(ClusterNameLabel, checkoutCluster)},
		Summary: &dto.Summary{SampleCount: proto.Uint64(3), SampleSum: proto.Float64(12)}}
	msg := message("edge-0",
		counterFamily("cluster.upstream_cx_total", checkoutCluster, 4),
		counterFamily(StatUpstreamRequests, checkoutCluster, 120),
		counterFamily(StatUpstreamRequests, cartCluster, 30),
		family("cluster.upstream_rq_xx", dto.MetricType_COUNTER,
			counter(checkoutCluster, 7, label("envoy.response_code_class", "5"))),
		family("cluster.upstream_rq", dto.MetricType_COUNTER,
			counter(checkoutCluster, 7, label("envoy.response_code", "503"))),
		counterFamily(StatRetries, checkoutCluster, 5),
		counterFamily(StatRetrySuccesses, checkoutCluster, 3),
		counterFamily(StatRetryOverflows, checkoutCluster, 1),
		counterFamily(StatTimeouts, checkoutCluster, 2),
		counterFamily(StatPerTryTimeouts, checkoutCluster, 4),
		counterFamily(StatConnectionOverflows, cartCluster, 6),
		counterFamily(StatPendingOverflows, cartCluster, 8),
		counterFamily(StatOutlierEjections, cartCluster, 1),
		counterFamily(StatUpstreamRequests, "edgetel_sink", 9),
		family("http.downstream_rq_total", dto.MetricType_COUNTER,
			&dto.Metric{Label: []*dto.LabelPair{label("envoy.http_conn_manager_prefix", "edge_http")},
				Counter: &dto.Counter{Value: proto.Float64(150)}}),
		gaugeFamily(StatOutlierEjectionsActive, cartCluster, 1),
		gaugeFamily("cluster.upstream_cx_active", checkoutCluster, 3),
		family("server.uptime", dto.MetricType_GAUGE, &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(60)}}),
		family("cluster.upstream_rq_time", dto.MetricType_SUMMARY, summary),
		family("cluster.upstream_rq_time", dto.MetricType_HISTOGRAM, histogram),
	)
	g, err := decodeWith(t, Config{}, mustMarshal(t, msg))
	if err != nil {
		t.Fatal(err)
	}
	want := got{Node: "edge-0", Dropped: map[string]int{}, Samples: []gotSample{
		{checkoutCluster, statUpstreamRequests, 120},
		{cartCluster, statUpstreamRequests, 30},
		{checkoutCluster, statRetries, 5},
		{checkoutCluster, statRetrySuccesses, 3},
		{checkoutCluster, statRetryOverflows, 1},
		{checkoutCluster, statTimeouts, 2},
		{checkoutCluster, statPerTryTimeouts, 4},
		{cartCluster, statConnectionOverflows, 6},
		{cartCluster, statPendingOverflows, 8},
		{cartCluster, statOutlierEjections, 1},
		{"edgetel_sink", statUpstreamRequests, 9},
		{cartCluster, statOutlierEjectionsActive, 1},
	}}
	if d := cmp.Diff(want, g); d != "" {
		t.Errorf("decoded (-want +got):\n%s", d)
	}
}

func TestDecodeReadsAFamilyWhoseNameFollowsItsMetrics(t *testing.T) {
	// proto allows fields in any order; Envoy writes them in field order, others may not.
	m := mustMarshal(t, counter(cartCluster, 3))
	fam := protowire.AppendBytes(protowire.AppendTag(nil, familyMetric, protowire.BytesType), m)
	fam = protowire.AppendBytes(protowire.AppendTag(fam, familyName, protowire.BytesType), []byte(StatRetries))
	wire := protowire.AppendBytes(protowire.AppendTag(nil, msgEnvoyMetrics, protowire.BytesType), fam)
	g, err := decodeWith(t, Config{}, wire)
	if err != nil {
		t.Fatal(err)
	}
	if want := []gotSample{{cartCluster, statRetries, 3}}; !slices.Equal(g.Samples, want) {
		t.Errorf("got %v, want %v", g.Samples, want)
	}
}

func TestDecodeMergesANodeSentInParts(t *testing.T) {
	g, err := decodeWith(t, Config{}, nodeSentTwice)
	if err != nil || g.Node != "a" {
		t.Errorf("got node %q, error %v; want a", g.Node, err)
	}
}

func TestDecodeRejectsMalformedMessagesWhole(t *testing.T) {
	good := mustMarshal(t, message("edge-0", counterFamily(StatRetries, cartCluster, 3)))
	lenField := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
	}
	varintField := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	metricsOf := func(metric []byte) []byte {
		return slices.Concat(good, lenField(msgEnvoyMetrics, slices.Concat(
			lenField(familyName, []byte(StatRetries)), lenField(familyMetric, metric))))
	}
	tests := []struct{ name, wire, where string }{
		{"a truncated tag", "\x92", "StreamMetricsMessage field 0"},
		{"a length beyond the buffer", "\x12\x05\x0a\x01", "StreamMetricsMessage field 2"},
		{"good families then one cut short", string(slices.Concat(good, []byte{0x12, 0x7f})), "field 2"},
		{"envoy_metrics sent as a varint", string(varintField(msgEnvoyMetrics, 1)), "wrong wire type"},
		{"a family name sent as a varint", string(lenField(msgEnvoyMetrics, varintField(familyName, 1))), "MetricFamily field 1"},
		{"a family type sent as bytes", string(lenField(msgEnvoyMetrics, lenField(familyType, nil))), "MetricFamily field 3"},
		{"a counter sent as a varint", string(metricsOf(varintField(metricCounter, 1))), "Metric field 3"},
		{"a counter value sent as a varint", string(metricsOf(lenField(metricCounter, varintField(valueField, 1)))), "value field 1"},
		{"a label cut short", string(metricsOf(lenField(metricLabel, []byte{0x0a, 0x09}))), "LabelPair field 1"},
		{"a group", string(protowire.AppendTag(nil, 9, protowire.StartGroupType)), "groups are not used"},
		{"a node ID sent as a varint", string(lenField(msgIdentifier, lenField(identifierNode, varintField(nodeID, 1)))), "field 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out decoded
			d := decoder{cfg: Config{}.withDefaults()}
			if err := d.decode(good, &out); err != nil {
				t.Fatal(err)
			}
			err := d.decode([]byte(tc.wire), &out)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.where) {
				t.Fatalf("got error %v, want ErrMalformed at %q", err, tc.where)
			}
			if len(out.samples) != 0 || out.node != nil || out.dropped != [numReasons]int{} {
				t.Errorf("a rejected message left %+v", view(&out))
			}
		})
	}
}

func TestDecodeBoundsAndCountsWhatItCannotKeep(t *testing.T) {
	tight := Config{MaxFamiliesPerMessage: 2, MaxMetricsPerFamily: 2, MaxLabelsPerMetric: 3, MaxLabelBytes: 64}
	long := strings.Repeat("x", 65)
	many := []*dto.LabelPair{label("a", "1"), label("b", "2"), label("c", "3")}
	noValue := &dto.Metric{Label: []*dto.LabelPair{label(ClusterNameLabel, cartCluster)}}
	zeroCounter := &dto.Metric{Label: []*dto.LabelPair{label(ClusterNameLabel, cartCluster)}, Counter: &dto.Counter{}}
	withSummary := counter(cartCluster, 1)
	withSummary.Summary = &dto.Summary{}
	tests := []struct {
		name    string
		cfg     Config
		fams    []*dto.MetricFamily
		samples []gotSample
		dropped map[string]int
	}{
		{"families past the limit are skipped unread", tight, []*dto.MetricFamily{
			counterFamily(StatRetries, cartCluster, 1), counterFamily(StatRetries, cartCluster, 2),
			counterFamily(StatRetries, cartCluster, 3), family("anything", dto.MetricType_UNTYPED)},
			[]gotSample{{cartCluster, statRetries, 1}, {cartCluster, statRetries, 2}},
			map[string]int{"family_limit": 2}},
		{"metrics past the limit of a family are dropped", tight, []*dto.MetricFamily{
			family(StatRetries, dto.MetricType_COUNTER, counter(cartCluster, 1), counter(cartCluster, 2),
				counter(cartCluster, 3))},
			[]gotSample{{cartCluster, statRetries, 1}, {cartCluster, statRetries, 2}},
			map[string]int{"metric_limit": 1}},
		{"a cluster name over the label limit is dropped", tight, []*dto.MetricFamily{
			counterFamily(StatRetries, long, 1)}, nil, map[string]int{"label_limit": 1}},
		{"a huge label of any name is dropped", Config{}, []*dto.MetricFamily{
			family(StatRetries, dto.MetricType_COUNTER, counter(cartCluster, 1, label("x", strings.Repeat("v", 1<<20))))},
			nil, map[string]int{"label_limit": 1}},
		{"a metric with too many labels is dropped", tight, []*dto.MetricFamily{
			family(StatRetries, dto.MetricType_COUNTER, counter(cartCluster, 1, many...))},
			nil, map[string]int{"label_limit": 1}},
		{"a counter stat in a gauge family is the wrong type", Config{}, []*dto.MetricFamily{
			family(StatRetries, dto.MetricType_GAUGE, gauge(cartCluster, 1), gauge(cartCluster, 2))},
			nil, map[string]int{"wrong_type": 2}},
		{"a gauge stat in a counter family is the wrong type", Config{}, []*dto.MetricFamily{
			counterFamily(StatOutlierEjectionsActive, cartCluster, 1)}, nil, map[string]int{"wrong_type": 1}},
		{"a counter family whose metric holds a gauge is the wrong type", Config{}, []*dto.MetricFamily{
			family(StatRetries, dto.MetricType_COUNTER, gauge(cartCluster, 1))}, nil, map[string]int{"wrong_type": 1}},
		{"a counter that also holds a summary is the wrong type", Config{}, []*dto.MetricFamily{
			family(StatRetries, dto.MetricType_COUNTER, withSummary)}, nil, map[string]int{"wrong_type": 1}},
		{"a metric without the cluster label is dropped", Config{}, []*dto.MetricFamily{
			family(StatRetries, dto.MetricType_COUNTER, &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(1)}})},
			nil, map[string]int{"no_cluster_label": 1}},
		{"values that are not whole counts are dropped", Config{}, []*dto.MetricFamily{
			counterFamily(StatRetries, cartCluster, math.NaN()), counterFamily(StatRetries, cartCluster, -1),
			counterFamily(StatRetries, cartCluster, 1.5), counterFamily(StatRetries, cartCluster, math.Inf(1)),
			counterFamily(StatRetries, cartCluster, 1<<60), family(StatRetries, dto.MetricType_COUNTER, noValue)},
			nil, map[string]int{"bad_value": 6}},
		{"a counter without its value field counts zero", Config{}, []*dto.MetricFamily{
			family(StatRetries, dto.MetricType_COUNTER, zeroCounter)},
			[]gotSample{{cartCluster, statRetries, 0}}, map[string]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := decodeWith(t, tc.cfg, mustMarshal(t, message("", tc.fams...)))
			if err != nil {
				t.Fatal(err)
			}
			want := got{Samples: tc.samples, Dropped: tc.dropped}
			if d := cmp.Diff(want, g); d != "" {
				t.Errorf("decoded (-want +got):\n%s", d)
			}
		})
	}
}

func TestDecodeAllocatesNothingOnceWarm(t *testing.T) {
	wire := mustMarshal(t, message("edge-0", counterFamily(StatUpstreamRequests, cartCluster, 3),
		counterFamily("cluster.upstream_cx_total", cartCluster, 4), gaugeFamily(StatOutlierEjectionsActive, cartCluster, 1)))
	d := decoder{cfg: Config{}.withDefaults()}
	var out decoded
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.decode(wire, &out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per message", allocs)
	}
}
