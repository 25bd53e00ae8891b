package sim

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// statsOf reads a flush back into counts by cluster and stat, checking that every family
// is as Envoy's sink builds it with emit_tags_as_labels.
func statsOf(t *testing.T, m *metricsv3.StreamMetricsMessage, at time.Time) map[statKey]uint64 {
	t.Helper()
	out := map[statKey]uint64{}
	for _, f := range m.GetEnvoyMetrics() {
		if f.GetType() != dto.MetricType_COUNTER || len(f.GetMetric()) != 1 {
			t.Fatalf("family %s: type %v with %d metrics, want one counter", f.GetName(), f.GetType(), len(f.GetMetric()))
		}
		mt := f.GetMetric()[0]
		ls := mt.GetLabel()
		if len(ls) != 1 || ls[0].GetName() != "envoy.cluster_name" || mt.GetTimestampMs() != at.UnixMilli() {
			t.Fatalf("family %s: labels %v at %d, want envoy.cluster_name at %d", f.GetName(), ls, mt.GetTimestampMs(), at.UnixMilli())
		}
		k := statKey{ls[0].GetValue(), f.GetName()}
		if _, dup := out[k]; dup {
			t.Fatalf("%v flushed twice", k)
		}
		out[k] = uint64(mt.GetCounter().GetValue())
	}
	return out
}

func TestNodeStatsFlushTheDeltasTheRequestsImply(t *testing.T) {
	edge := exampleEdge(t)
	w := Workload{Rate: 100, Unmatched: 0.05, Epoch: time.Unix(1_900_000_000, 0), Profiles: map[string]Profile{}}
	for _, r := range edge.Routes {
		p := DefaultProfile(r)
		p.ErrorRatio = 0.4
		w.Profiles[r.Name] = p
	}
	g, err := NewGenerator(edge, 3, w)
	if err != nil {
		t.Fatal(err)
	}
	s := NewNodeStats()
	// want is counted from what each entry shows, not from the request's cause.
	want := map[statKey]uint64{}
	run := func(n int) {
		for range n {
			e := new(datav3.HTTPAccessLogEntry)
			r := g.Next(e)
			s.Observe(r)
			c, f := e.GetCommonProperties().GetUpstreamCluster(), FlagsOf(e.GetCommonProperties().GetResponseFlags())
			switch {
			case c == "":
			case f&FlagUO != 0:
				want[statKey{c, statPendingOverflows}]++
			case f&FlagUF == 0:
				attempts := uint64(e.GetCommonProperties().GetUpstreamRequestAttemptCount())
				want[statKey{c, statUpstreamRequests}] += attempts
				if attempts > 1 {
					want[statKey{c, statRetries}] += attempts - 1
				}
				if f&FlagUT != 0 {
					want[statKey{c, statTimeouts}]++
				}
			}
		}
	}
	at := w.Epoch
	run(2000)
	first := statsOf(t, s.Flush(at.Add(10*time.Second)), at.Add(10*time.Second))
	if d := cmp.Diff(want, first); d != "" {
		t.Fatalf("the first flush (-want +got):\n%s", d)
	}
	if want[statKey{"ext_127_0_0_1_9004", statRetries}] == 0 || want[statKey{"ext_127_0_0_1_9003", statPendingOverflows}] == 0 {
		t.Fatalf("the traffic has no retry or no overflow to check: %v", want)
	}
	before := map[statKey]uint64{}
	for k, v := range want {
		before[k] = v
	}
	run(1000)
	second := statsOf(t, s.Flush(at.Add(20*time.Second)), at.Add(20*time.Second))
	for k, v := range want {
		if second[k] != v-before[k] {
			t.Errorf("%v: the second flush has %d, want the delta %d", k, second[k], v-before[k])
		}
		if s.Total(k.cluster, k.name) != v {
			t.Errorf("%v: total %d, want %d", k, s.Total(k.cluster, k.name), v)
		}
	}
	idle := statsOf(t, s.Flush(at.Add(30*time.Second)), at.Add(30*time.Second))
	if len(idle) != len(want) {
		t.Errorf("an idle flush has %d counters, want every one used so far (%d)", len(idle), len(want))
	}
	for k, v := range idle {
		if v != 0 {
			t.Errorf("%v: an idle flush has %d, want 0", k, v)
		}
	}
}

// fakeMetricsService keeps the messages of every stream, decoded by the generated code.
type fakeMetricsService struct {
	metricsv3.UnimplementedMetricsServiceServer
	mu      sync.Mutex
	streams [][]*metricsv3.StreamMetricsMessage
}

func (f *fakeMetricsService) StreamMetrics(stream grpc.ClientStreamingServer[metricsv3.StreamMetricsMessage, metricsv3.StreamMetricsResponse]) error {
	var msgs []*metricsv3.StreamMetricsMessage
	defer func() {
		f.mu.Lock()
		f.streams = append(f.streams, msgs)
		f.mu.Unlock()
	}()
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&metricsv3.StreamMetricsResponse{})
		}
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
}

func TestAStatsStreamCarriesTheIdentifierInItsFirstMessageOnly(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeMetricsService{}
	srv := grpc.NewServer()
	metricsv3.RegisterMetricsServiceServer(srv, fake)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	s := NewNodeStats()
	s.counts[statKey{"ext_127_0_0_1_9004", statUpstreamRequests}] = 3
	at := time.Unix(1_900_000_000, 0)
	first, second := s.Flush(at), s.Flush(at.Add(10*time.Second))
	stream, err := OpenStatsStream(context.Background(), conn, StatsIdentifier("edge-0", "edge"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*metricsv3.StreamMetricsMessage{first, second} {
		if err := stream.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Close(); err != nil {
		t.Fatal(err)
	}
	if first.Identifier != nil {
		t.Error("Send changed the caller's message")
	}
	want := [][]*metricsv3.StreamMetricsMessage{{
		{Identifier: StatsIdentifier("edge-0", "edge"), EnvoyMetrics: first.EnvoyMetrics},
		second,
	}}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if d := cmp.Diff(want, fake.streams, protocmp.Transform()); d != "" {
		t.Errorf("the server read (-want +got):\n%s", d)
	}
	if v := second.EnvoyMetrics[0].Metric[0].Counter.GetValue(); v != 0 || !proto.Equal(second.EnvoyMetrics[0].Metric[0].Label[0], first.EnvoyMetrics[0].Metric[0].Label[0]) {
		t.Errorf("the second flush has %v, want the counter again at 0", second.EnvoyMetrics[0])
	}
}
