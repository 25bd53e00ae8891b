package sim

import (
	"context"
	"encoding/hex"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc"
)

// sampledEntries maps the trace ID of every sampled entry the server read to its request ID.
func sampledEntries(streams [][]received) map[string]string {
	out := map[string]string{} // trace ID -> request ID, of the sampled entries
	for _, s := range streams {
		for _, m := range s {
			for _, e := range m.msg.GetHttpLogs().GetLogEntry() {
				tp := strings.Split(e.GetRequest().GetRequestHeaders()["traceparent"], "-")
				if len(tp) == 4 && tp[3] == "01" {
					out[tp[1]] = e.GetRequest().GetRequestId()
				}
			}
		}
	}
	return out
}

// completedUpstream counts, by cluster, the entries that reached an upstream host without
// UF or UO: what upstream_rq_total - upstream_rq_retry must equal.
func completedUpstream(streams [][]received) map[string]uint64 {
	out := map[string]uint64{}
	for _, s := range streams {
		for _, m := range s {
			for _, e := range m.msg.GetHttpLogs().GetLogEntry() {
				c := e.GetCommonProperties()
				if c.GetUpstreamRemoteAddress() != nil && FlagsOf(c.GetResponseFlags())&(FlagUF|FlagUO) == 0 {
					out[c.GetUpstreamCluster()]++
				}
			}
		}
	}
	return out
}

func TestTheStatsTotalsOfASendNRunAreTheDeltasTheMetricsServiceReceived(t *testing.T) {
	srv := startFakeALS(t, 0)
	f := newFleet(t, testConfig(t, srv.addr))
	if err := f.SendN(testContext(t), 3000); err != nil { // about 15 s of virtual time a node
		t.Fatal(err)
	}
	truth := f.Truth()
	if !truth.Exact() || truth.StatsLost != 0 || truth.StatsFlushes < 2*3 {
		t.Fatalf("exact %v, %d flushes sent, %d lost: want exact, a timer flush and a last one per node, none lost",
			truth.Exact(), truth.StatsFlushes, truth.StatsLost)
	}
	got := srv.metrics.statsReceived()
	if !reflect.DeepEqual(truth.Stats, got) {
		t.Errorf("the truth's stats differ from the deltas the server received:\ntruth %v\nserver %v", truth.Stats, got)
	}
	for cluster, stats := range truth.Stats {
		for name, v := range stats {
			var observed uint64
			for _, ns := range f.stats {
				observed += ns.Total(cluster, name)
			}
			if observed != v {
				t.Errorf("%s %s: the nodes counted %d, the truth says %d sent", cluster, name, observed, v)
			}
		}
	}
	for cluster, n := range completedUpstream(srv.snapshot()) {
		if s := got[cluster]; s[statUpstreamRequests]-s[statRetries] != n {
			t.Errorf("cluster %s: upstream_rq_total %d - retries %d, want the %d entries that reached an upstream",
				cluster, s[statUpstreamRequests], s[statRetries], n)
		}
	}
	for i, s := range srv.metrics.streamsRead() {
		if len(s) < 2 || s[0].GetIdentifier() == nil {
			t.Errorf("stats stream %d: %d messages, want the identifier and two flushes or more", i, len(s))
		}
	}
}

func TestTheStatsTimerFlushesEveryIntervalOnTheVirtualClock(t *testing.T) {
	srv := startFakeALS(t, 0)
	c := testConfig(t, srv.addr)
	c.Nodes, c.StatsFlushInterval = 1, 2*time.Second
	f := newFleet(t, c)
	if err := f.SendN(testContext(t), 3000); err != nil { // 15 s at 200 requests a second
		t.Fatal(err)
	}
	msgs := srv.metrics.streamsRead()[0]
	if len(msgs) < 8 {
		t.Fatalf("%d flushes, want one every 2 s of the run's 15 s and a last one", len(msgs))
	}
	first := testEpoch.Add(2 * time.Second).UnixMilli()
	for i, m := range msgs[:len(msgs)-1] {
		if at := m.GetEnvoyMetrics()[0].GetMetric()[0].GetTimestampMs(); at != first+int64(i)*2000 {
			t.Errorf("flush %d stamped %d, want %d: every 2 s from the epoch", i, at, first+int64(i)*2000)
		}
	}
}

func TestTheSpansOfASendNRunAreTheSampledEntriesTheServerReceived(t *testing.T) {
	srv := startFakeALS(t, 0)
	f := newFleet(t, testConfig(t, srv.addr))
	if err := f.SendN(testContext(t), 3000); err != nil {
		t.Fatal(err)
	}
	truth := f.Truth()
	sampled := sampledEntries(srv.snapshot())
	spans := srv.otlp.spansRead()
	if truth.SpansLost != 0 || truth.SpansSent != uint64(len(spans)) || len(sampled) != len(spans) {
		t.Fatalf("truth: %d spans sent, %d lost; the server read %d spans and %d sampled entries: want all equal",
			truth.SpansSent, truth.SpansLost, len(spans), len(sampled))
	}
	if len(sampled) == 0 {
		t.Fatal("no request was sampled")
	}
	for _, s := range spans {
		tid := s.TraceID()
		id, _ := s.Attributes().Get("guid:x-request-id")
		if want, ok := sampled[hex.EncodeToString(tid[:])]; !ok || id.Str() != want {
			t.Fatalf("span %x with request ID %q: want a sampled entry's trace and request IDs", tid, id.Str())
		}
	}
}

func TestStatsAndSpansCanBeTurnedOff(t *testing.T) {
	srv := startFakeALS(t, 0)
	c := testConfig(t, srv.addr)
	c.Stats, c.Spans = false, false
	if err := newFleet(t, c).SendN(testContext(t), 600); err != nil {
		t.Fatal(err)
	}
	if streams, spans := srv.metrics.streamsRead(), srv.otlp.spansRead(); len(streams) != 0 || len(spans) != 0 {
		t.Errorf("the server read %d stats streams and %d spans, want none", len(streams), len(spans))
	}
}

func TestASinkWithoutStatsOrTracesLosesThemButNotTheAccessLogs(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	als := &fakeALS{}
	srv := grpc.NewServer()
	alsv3.RegisterAccessLogServiceServer(srv, als)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	f := newFleet(t, testConfig(t, lis.Addr().String()))
	if err := f.SendN(testContext(t), 1500); err != nil {
		t.Fatalf("SendN: %v; the access logs got through, want no error", err)
	}
	truth := f.Truth()
	if truth.Sent != 1500 || truth.SpansSent != 0 || truth.SpansLost == 0 || truth.StatsLost+truth.StatsUnconfirmed == 0 {
		t.Errorf("sent %d, spans sent %d and lost %d, stats flushes lost %d and unconfirmed %d: "+
			"want every entry sent, every span and flush lost", truth.Sent, truth.SpansSent, truth.SpansLost,
			truth.StatsLost, truth.StatsUnconfirmed)
	}
	if truth.Exact() {
		t.Error("the truth is exact, want it not to be: the stats flushes are unconfirmed")
	}
	if n := truth.Nodes["edge-0"]; n.StatsFailures == 0 || n.LastSignalError == "" {
		t.Errorf("node edge-0: %d stats failures, last error %q; want the failures and why", n.StatsFailures, n.LastSignalError)
	}
}

func TestInRealTimeStatsAreFlushedEveryIntervalAndAtShutdown(t *testing.T) {
	srv := startFakeALS(t, 0)
	c := testConfig(t, srv.addr)
	c.Epoch, c.Nodes, c.StatsFlushInterval = time.Time{}, 1, 100*time.Millisecond
	f := newFleet(t, c)
	if err := f.Start(testContext(t)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	truth := f.Truth()
	if n := len(srv.metrics.streamsRead()[0]); n < 3 || uint64(n) != truth.StatsFlushes {
		t.Errorf("the server read %d flushes, the truth says %d sent: want the same, three or more", n, truth.StatsFlushes)
	}
	if got := srv.metrics.statsReceived(); !truth.Exact() || !reflect.DeepEqual(truth.Stats, got) {
		t.Errorf("exact %v, truth %v, server %v: want exact and equal", truth.Exact(), truth.Stats, got)
	}
}
