package metrics

import (
	"context"
	"net"
	"testing"
	"time"

	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
)

// rig is the stats side of a sink on a real gRPC server on loopback: the access-log receiver
// feeding the store, the metrics receiver, and a client connection to them.
type rig struct {
	edge  *model.Edge
	store *Store
	stats *Receiver
	logs  *als.Receiver
	conn  *grpc.ClientConn
}

func newRig(t *testing.T) *rig {
	t.Helper()
	edge, err := config.ExampleEdge()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{edge: edge}
	if r.store, err = NewStore(Config{}, r.edge, nil); err != nil {
		t.Fatal(err)
	}
	if r.stats, err = NewReceiver(Config{}, r.store, nil); err != nil {
		t.Fatal(err)
	}
	if r.logs, err = als.NewReceiver(als.ReceiverConfig{}, r.store, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.logs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	metricsv3.RegisterMetricsServiceServer(srv, r.stats)
	alsv3.RegisterAccessLogServiceServer(srv, r.logs)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	if r.conn, err = grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.conn.Close() })
	return r
}

// waitFor polls cond for up to 10s: the server applies what it reads on its own goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// sendLogs sends entries on one access-log stream of node, then drains the receiver's queue
// into the store.
func (r *rig) sendLogs(t *testing.T, node string, entries []*datav3.HTTPAccessLogEntry) {
	t.Helper()
	ctx := context.Background()
	stream, err := alsv3.NewAccessLogServiceClient(r.conn).StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := sim.Identifier(node, "edge", sim.LogName)
	for len(entries) > 0 {
		n := min(len(entries), 30)
		if err := stream.Send(sim.Message(id, entries[:n])); err != nil {
			t.Fatal(err)
		}
		id, entries = nil, entries[n:]
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	if err := r.logs.Shutdown(ctx); err != nil { // what was read is now counted
		t.Fatal(err)
	}
	if err := r.logs.Start(ctx); err != nil {
		t.Fatal(err)
	}
}

// traffic is n requests of a node with many errors, the stats they imply, and the entries
// the node's access log delivers: those of requests Envoy did not send upstream, and of the
// k-th request it sent upstream when keep(k). want counts, per cluster, the requests sent
// upstream and the entries of them delivered.
func traffic(t *testing.T, edge *model.Edge, n int, keep func(k int) bool) (*sim.NodeStats, []*datav3.HTTPAccessLogEntry, map[string][2]int) {
	t.Helper()
	w := sim.Workload{Rate: 100, Unmatched: 0.02, Epoch: t0, Profiles: map[string]sim.Profile{}}
	for _, r := range edge.Routes {
		p := sim.DefaultProfile(r)
		p.ErrorRatio = 0.3 // connect failures, overflows, timeouts, exhausted retries
		w.Profiles[r.Name] = p
	}
	g, err := sim.NewGenerator(edge, 7, w)
	if err != nil {
		t.Fatal(err)
	}
	stats := sim.NewNodeStats()
	var delivered []*datav3.HTTPAccessLogEntry
	want := map[string][2]int{}
	for k := 0; n > 0; n-- {
		e := new(datav3.HTTPAccessLogEntry)
		r := g.Next(e)
		stats.Observe(r)
		if r.Route == nil || r.UpstreamHost == "" || r.Flags&(sim.FlagUF|sim.FlagUO) != 0 {
			delivered = append(delivered, e)
			continue
		}
		c := want[r.Route.Backend.Cluster]
		c[0]++
		if keep(k) {
			c[1]++
			delivered = append(delivered, e)
		}
		want[r.Route.Backend.Cluster] = c
		k++
	}
	return stats, delivered, want
}

func TestOverGRPCTheStoreCountsWhatASimulatedNodeFlushed(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep func(k int) bool
		want float64
	}{
		{"with every access log delivered, completeness is 1", func(int) bool { return true }, 1},
		{"with every other entry lost, completeness is 0.5", func(k int) bool { return k%2 == 0 }, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			stats, entries, want := traffic(t, r.edge, 3000, tc.keep)
			stream, err := sim.OpenStatsStream(ctx, r.conn, sim.StatsIdentifier("edge-0", "edge"))
			if err != nil {
				t.Fatal(err)
			}
			// The node's first flush: the stream opens and sets the node's baseline.
			if err := stream.Send(sim.NewNodeStats().Flush(t0)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the first flush", func() bool { return testutil.ToFloat64(r.stats.tel.messages) == 1 })
			r.sendLogs(t, "edge-0", entries)
			if err := stream.Send(stats.Flush(t0.Add(10 * time.Second))); err != nil {
				t.Fatal(err)
			}
			if err := stream.Close(); err != nil { // the server has applied the flush
				t.Fatal(err)
			}
			var sent, kept int
			for _, c := range r.store.Clusters() {
				checkCluster(t, &c, stats)
				w := want[c.Cluster]
				sent, kept = sent+w[0], kept+w[1]
				ratio, ok := c.Completeness()
				if w[0] > 0 && (!ok || ratio != float64(w[1])/float64(w[0])) {
					t.Errorf("%s: completeness %v (%v), want %d/%d", c.Cluster, ratio, ok, w[1], w[0])
				}
			}
			if got := float64(kept) / float64(sent); got < tc.want-0.001 || got > tc.want+0.001 {
				t.Errorf("%d of %d entries delivered, want a ratio of %v", kept, sent, tc.want)
			}
		})
	}
}

// checkCluster compares the store's counters of a cluster with the node's.
func checkCluster(t *testing.T, c *ClusterStats, stats *sim.NodeStats) {
	t.Helper()
	for _, x := range []struct {
		stat string
		got  uint64
	}{
		{StatUpstreamRequests, c.UpstreamRequests}, {StatRetries, c.Retries},
		{StatTimeouts, c.Timeouts}, {StatPendingOverflows, c.PendingOverflows},
	} {
		if want := stats.Total(c.Cluster, x.stat); x.got != want {
			t.Errorf("%s %s: the store counted %d, the node %d", c.Cluster, x.stat, x.got, want)
		}
	}
}

func TestOverGRPCAMalformedMessageIsCountedAndTheStreamGoesOn(t *testing.T) {
	r := newRig(t)
	stream, err := metricsv3.NewMetricsServiceClient(r.conn).StreamMetrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(message("edge-0", counterFamily(StatRetries, "ext_127_0_0_1_9004", 2))); err != nil {
		t.Fatal(err)
	}
	// A rawMessage marshals to its bytes unchanged: a message cut short.
	if err := stream.SendMsg(&rawMessage{Buf: []byte{0x12, 0x7f, 0x0a}}); err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(message("", counterFamily(StatRetries, "ext_127_0_0_1_9004", 3),
		counterFamily(StatRetries, "ext_10_9_8_7_80", 1))); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatalf("the stream did not end cleanly: %v", err)
	}
	if got := clusterStats(t, r.store, "ext_127_0_0_1_9004").Retries; got != 5 {
		t.Errorf("%d retries applied, want 2 + 3 around the malformed message", got)
	}
	tel := r.stats.tel
	for name, x := range map[string]struct{ got, want float64 }{
		"messages":        {testutil.ToFloat64(tel.messages), 3},
		"malformed":       {testutil.ToFloat64(tel.malformed), 1},
		"unknown cluster": {testutil.ToFloat64(tel.dropped[reasonUnknownCluster]), 1},
		"streams":         {testutil.ToFloat64(tel.streams), 1},
		"streams open":    {testutil.ToFloat64(tel.streamsOpen), 0},
	} {
		if x.got != x.want {
			t.Errorf("%s: %v, want %v", name, x.got, x.want)
		}
	}
}
