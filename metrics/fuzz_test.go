package metrics

import (
	"errors"
	"math"
	"strings"
	"testing"

	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// reference applies the decoder's rules to a message that proto.Unmarshal built: an
// independent reading of the same contract, to hold the wire decoder to.
func reference(m *metricsv3.StreamMetricsMessage, cfg Config) got {
	cfg = cfg.withDefaults()
	g := got{Node: m.GetIdentifier().GetNode().GetId(), Dropped: map[string]int{}}
	for i, f := range m.GetEnvoyMetrics() {
		if i >= cfg.MaxFamiliesPerMessage {
			g.Dropped["family_limit"]++
			continue
		}
		st, ok := statOf([]byte(f.GetName()))
		if !ok {
			continue
		}
		want := dto.MetricType_COUNTER
		if st.isGauge() {
			want = dto.MetricType_GAUGE
		}
		if f.GetType() != want {
			if n := len(f.GetMetric()); n > 0 {
				g.Dropped["wrong_type"] += n
			}
			continue
		}
		for j, mt := range f.GetMetric() {
			if j >= cfg.MaxMetricsPerFamily {
				g.Dropped["metric_limit"]++
				continue
			}
			cluster, v, why := referenceMetric(mt, st, cfg)
			if why != "" {
				g.Dropped[why]++
				continue
			}
			g.Samples = append(g.Samples, gotSample{cluster, st, v})
		}
	}
	return g
}

func referenceMetric(m *dto.Metric, st stat, cfg Config) (string, uint64, string) {
	var cluster *string
	for _, l := range m.GetLabel() {
		if len(l.GetName()) > cfg.MaxLabelBytes || len(l.GetValue()) > cfg.MaxLabelBytes {
			return "", 0, "label_limit"
		}
		if l.GetName() == ClusterNameLabel {
			cluster = proto.String(l.GetValue())
		}
	}
	if len(m.GetLabel()) > cfg.MaxLabelsPerMetric {
		return "", 0, "label_limit"
	}
	has := m.Counter != nil
	other := m.Gauge != nil || m.Summary != nil || m.Untyped != nil || m.Histogram != nil
	v := m.GetCounter().GetValue()
	if st.isGauge() {
		has, other = m.Gauge != nil, m.Counter != nil || m.Summary != nil || m.Untyped != nil || m.Histogram != nil
		v = m.GetGauge().GetValue()
	}
	switch {
	case other:
		return "", 0, "wrong_type"
	case cluster == nil:
		return "", 0, "no_cluster_label"
	case !has || math.IsNaN(v) || v < 0 || v > maxExactValue || v != math.Trunc(v):
		return "", 0, "bad_value"
	}
	return *cluster, uint64(v), ""
}

// FuzzDecode checks, on any input:
//   - decode never panics, and every error it returns wraps ErrMalformed;
//   - where both decode and proto.Unmarshal accept the input, decode reads what reference
//     reads from proto.Unmarshal's message;
//   - whatever proto.Unmarshal accepts, decode accepts once re-encoded canonically (unknown
//     fields dropped: groups there are where the two differ by design), with that reading.
//
// Run longer with go test -run x -fuzz FuzzDecode ./metrics/.
func FuzzDecode(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	tight := Config{MaxFamiliesPerMessage: 3, MaxMetricsPerFamily: 1, MaxLabelsPerMetric: 1, MaxLabelBytes: 64}
	f.Fuzz(func(t *testing.T, wire []byte) {
		for _, cfg := range []Config{{}, tight} {
			g, err := decodeWith(t, cfg, wire)
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			var m metricsv3.StreamMetricsMessage
			if proto.Unmarshal(wire, &m) != nil {
				continue // invalid UTF-8 in a proto3 string, and other input decode may accept
			}
			want := reference(&m, cfg)
			if err == nil {
				if d := cmp.Diff(want, g); d != "" {
					t.Fatalf("decode and proto.Unmarshal differ (-proto +decode):\n%s", d)
				}
			}
			var known metricsv3.StreamMetricsMessage
			if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(wire, &known); err != nil {
				t.Fatalf("proto.Unmarshal accepts but not with DiscardUnknown: %v", err)
			}
			canonical, err := proto.MarshalOptions{Deterministic: true}.Marshal(&known)
			if err != nil {
				t.Fatal(err)
			}
			g, err = decodeWith(t, cfg, canonical)
			if err != nil {
				t.Fatalf("decode rejects what proto.Unmarshal accepts: %v", err)
			}
			if d := cmp.Diff(reference(&known, cfg), g); d != "" {
				t.Fatalf("on the canonical encoding (-proto +decode):\n%s", d)
			}
		}
	})
}

// nodeSentTwice is an Identifier whose node comes in two parts, the ID in the first: merged,
// as proto.Unmarshal merges them, the node is "a".
var nodeSentTwice = []byte{0x0a, 0x0a, 0x0a, 0x03, 0x0a, 0x01, 'a', 0x0a, 0x03, 0x12, 0x01, 'x'}

func fuzzSeeds(f *testing.F) [][]byte {
	withSummary := counter(cartCluster, 1)
	withSummary.Summary = &dto.Summary{}
	msgs := []*metricsv3.StreamMetricsMessage{
		message("edge-0", counterFamily(StatUpstreamRequests, checkoutCluster, 12),
			counterFamily(StatRetries, checkoutCluster, 2), gaugeFamily(StatOutlierEjectionsActive, cartCluster, 1),
			counterFamily("cluster.upstream_cx_total", cartCluster, 5)),
		message("", family(StatRetries, dto.MetricType_COUNTER, counter(cartCluster, 1), counter(checkoutCluster, 2)),
			family(StatRetries, dto.MetricType_GAUGE, gauge(cartCluster, 1)),
			family(StatTimeouts, dto.MetricType_COUNTER, withSummary),
			counterFamily(StatTimeouts, strings.Repeat("c", 300), 1),
			counterFamily(StatTimeouts, cartCluster, math.NaN()),
			family(StatTimeouts, dto.MetricType_COUNTER, &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(1)}})),
		message("edge-1"),
	}
	var seeds [][]byte
	for _, m := range msgs {
		seeds = append(seeds, mustMarshal(f, m))
	}
	return append(seeds, []byte{0x12, 0x02, 0x18, 0x07}, []byte{0x12, 0x03, 0x0b, 0x0c}, nil, nodeSentTwice)
}
