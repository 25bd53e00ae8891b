package metrics

import (
	"fmt"
	"testing"

	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/model"
)

// benchFlush is a flush of a large Envoy: 100 clusters of the model, each with 60 stats,
// 10 of which edgetel keeps, and a histogram reported as summary and histogram.
func benchFlush() (*model.Edge, *metricsv3.StreamMetricsMessage) {
	e := &model.Edge{}
	var fams []*dto.MetricFamily
	kept := []string{StatUpstreamRequests, StatRetries, StatRetrySuccesses, StatRetryOverflows, StatTimeouts,
		StatPerTryTimeouts, StatConnectionOverflows, StatPendingOverflows, StatOutlierEjections}
	for i := range 100 {
		c := fmt.Sprintf("ext_10_0_%d_1_8080", i)
		e.Routes = append(e.Routes, model.Route{Name: fmt.Sprintf("ns/r%03d", i), Backend: model.Backend{Cluster: c}})
		for _, s := range kept {
			fams = append(fams, counterFamily(s, c, 12))
		}
		fams = append(fams, gaugeFamily(StatOutlierEjectionsActive, c, 1))
		for j := range 48 {
			fams = append(fams, counterFamily(fmt.Sprintf("cluster.other_stat_%d", j), c, 3))
		}
		h := &dto.Metric{Label: []*dto.LabelPair{label(ClusterNameLabel, c)},
			Histogram: &dto.Histogram{SampleCount: proto.Uint64(9), SampleSum: proto.Float64(99)}}
		for b := range 20 {
			h.Histogram.Bucket = append(h.Histogram.Bucket, &dto.Bucket{UpperBound: proto.Float64(float64(b)), CumulativeCount: proto.Uint64(1)})
		}
		fams = append(fams, family("cluster.upstream_rq_time", dto.MetricType_HISTOGRAM, h))
	}
	return e, message("edge-0", fams...)
}

// BenchmarkReceiveFlush decodes and applies a large Envoy's flush, as a stream does; compare
// BenchmarkProtoUnmarshalFlush, what building the message alone would cost.
func BenchmarkReceiveFlush(b *testing.B) {
	e, msg := benchFlush()
	wire := mustMarshal(b, msg)
	s, err := NewStore(Config{}, e, nil)
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewReceiver(Config{}, s, nil)
	if err != nil {
		b.Fatal(err)
	}
	st := envoyStream{r: r, feed: s.newFeed()}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		st.raw.Buf = wire
		st.receive()
	}
	b.ReportMetric(float64(len(msg.EnvoyMetrics)), "families/op")
}

func BenchmarkProtoUnmarshalFlush(b *testing.B) {
	_, msg := benchFlush()
	wire := mustMarshal(b, msg)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		var m metricsv3.StreamMetricsMessage
		if err := proto.Unmarshal(wire, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConsumeRecords is the store's share of the access-log hot path, per entry: a
// batch of 30 entries of one node with a stats stream open.
func BenchmarkConsumeRecords(b *testing.B) {
	s, err := NewStore(Config{}, testEdge(), nil)
	if err != nil {
		b.Fatal(err)
	}
	f := s.newFeed()
	send(b, f, message("edge-0"))
	batch := entries(30, "edge-0", checkoutCluster)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s.ConsumeRecords(batch)
		n += len(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
}
