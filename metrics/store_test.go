package metrics

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/xds"
)

func TestDeltasAccumulateAcrossMessagesAndNodes(t *testing.T) {
	clock := newFakeClock(t0)
	s := newTestStore(t, clock)
	a, b := s.newFeed(), s.newFeed()
	send(t, a, message("edge-0", counterFamily(StatUpstreamRequests, checkoutCluster, 10),
		counterFamily(StatRetries, checkoutCluster, 1), counterFamily(StatTimeouts, cartCluster, 2)))
	send(t, b, message("edge-1", counterFamily(StatUpstreamRequests, checkoutCluster, 7),
		counterFamily(StatConnectionOverflows, cartCluster, 1), counterFamily(StatPendingOverflows, cartCluster, 2),
		counterFamily(StatRetryOverflows, cartCluster, 3), counterFamily(StatOutlierEjections, cartCluster, 1)))
	clock.advance(10 * time.Second)
	send(t, a, message("", counterFamily(StatUpstreamRequests, checkoutCluster, 5),
		counterFamily(StatRetries, checkoutCluster, 0), counterFamily(StatRetrySuccesses, checkoutCluster, 4),
		counterFamily(StatPerTryTimeouts, checkoutCluster, 6), counterFamily(StatTimeouts, cartCluster, 0)))

	got := s.Clusters()
	want := []ClusterStats{
		{Cluster: cartCluster, Routes: []string{"shop/cart", "shop/cart-v2"}, Since: t0,
			Timeouts: 2, ConnectionOverflows: 1, PendingOverflows: 2, RetryOverflows: 3, OutlierEjections: 1},
		{Cluster: checkoutCluster, Routes: []string{"shop/checkout"}, Since: t0,
			UpstreamRequests: 22, Retries: 1, RetrySuccesses: 4, PerTryTimeouts: 6,
			WindowRequests: 5}, // edge-0's second flush, paired with no entry
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("clusters (-want +got):\n%s", d)
	}
}

func TestAnUnknownClusterIsDroppedAndCounted(t *testing.T) {
	s := newTestStore(t, newFakeClock(t0))
	dropped := send(t, s.newFeed(), message("edge-0",
		counterFamily(StatUpstreamRequests, "ext_10_0_0_1_80", 3),
		counterFamily(StatUpstreamRequests, xds.SinkCluster, 4),
		counterFamily(StatUpstreamRequests, xds.XDSCluster, 5),
		counterFamily(StatUpstreamRequests, cartCluster, 6)))
	if dropped[reasonUnknownCluster] != 1 {
		t.Errorf("%d samples counted as unknown, want 1: the bootstrap's own clusters are not", dropped[reasonUnknownCluster])
	}
	if c := clusterStats(t, s, cartCluster); c.UpstreamRequests != 6 {
		t.Errorf("the known cluster counted %d requests, want 6", c.UpstreamRequests)
	}
	s.ConsumeRecords(entries(2, "edge-0", "ext_10_0_0_1_80"))
	if n := s.UnknownEntries(); n != 2 {
		t.Errorf("%d access-log entries of an unknown cluster counted, want 2", n)
	}
}

func TestTheBootstrapsOwnClustersAreTheXDSNames(t *testing.T) {
	if sinkCluster != xds.SinkCluster || xdsCluster != xds.XDSCluster {
		t.Errorf("metrics skips %q and %q, the bootstrap names %q and %q",
			sinkCluster, xdsCluster, xds.SinkCluster, xds.XDSCluster)
	}
}

func TestGaugesKeepTheLatestLevelPerStreamAndLeaveWithIt(t *testing.T) {
	s := newTestStore(t, newFakeClock(t0))
	a, b := s.newFeed(), s.newFeed()
	active := func() int64 { return clusterStats(t, s, cartCluster).OutlierEjectionsActive }
	send(t, a, message("edge-0", gaugeFamily(StatOutlierEjectionsActive, cartCluster, 2)))
	send(t, a, message("", gaugeFamily(StatOutlierEjectionsActive, cartCluster, 1)))
	send(t, b, message("edge-1", gaugeFamily(StatOutlierEjectionsActive, cartCluster, 3)))
	if got := active(); got != 4 {
		t.Errorf("%d ejections active, want 1 + 3", got)
	}
	b.close()
	if got := active(); got != 1 {
		t.Errorf("%d ejections active once edge-1's stream ended, want 1", got)
	}
}

func TestAModelChangeKeepsTheCountsOfTheClustersThatStay(t *testing.T) {
	clock := newFakeClock(t0)
	s := newTestStore(t, clock)
	send(t, s.newFeed(), message("edge-0", counterFamily(StatRetries, cartCluster, 3),
		counterFamily(StatRetries, checkoutCluster, 4)))
	clock.advance(time.Minute)
	e := testEdge()
	e.Routes = e.Routes[:1] // shop/cart only: checkout's cluster goes
	e.Routes = append(e.Routes, model.Route{Name: "shop/search", Backend: model.Backend{Cluster: "ext_127_0_0_1_9002"}})
	s.SetModel(e)
	got := s.Clusters()
	want := []ClusterStats{
		{Cluster: "ext_127_0_0_1_9002", Routes: []string{"shop/search"}, Since: t0.Add(time.Minute)},
		{Cluster: cartCluster, Routes: []string{"shop/cart"}, Since: t0, Retries: 3},
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("clusters (-want +got):\n%s", d)
	}
}

// The decoder resolves a record's route (als.Record.RouteIn), and the store takes the
// route's cluster from it; the cluster Envoy logged decides all the same.
func TestAnEntryCountsForTheClusterItNamesWhateverRouteWasResolved(t *testing.T) {
	edge, other := testEdge(), testEdge()
	s, err := NewStore(Config{}, edge, newFakeClock(t0).now)
	if err != nil {
		t.Fatal(err)
	}
	resolved := func(cluster string, m *model.Edge, route int32) als.Record {
		r := entry("edge-0", cluster)
		r.Model, r.Route = m, route
		return r
	}
	for _, tc := range []struct {
		name               string
		rec                als.Record
		cart, checkout, no uint64
	}{
		{"a route of the store's model and its cluster", resolved(cartCluster, edge, 1), 1, 0, 0},
		{"a route of the store's model and another cluster", resolved(checkoutCluster, edge, 2), 0, 1, 0},
		{"a route of another model", resolved(checkoutCluster, other, 1), 0, 1, 0},
		{"a route of the store's model and a cluster it does not have", resolved("ext_10_0_0_1_80", edge, 3), 0, 0, 1},
		{"no route resolved", resolved(cartCluster, nil, 0), 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cart, checkout := clusterStats(t, s, cartCluster), clusterStats(t, s, checkoutCluster)
			unknown := s.UnknownEntries()
			s.ConsumeRecords([]als.Record{tc.rec})
			got := [3]uint64{
				clusterStats(t, s, cartCluster).EntriesSentUpstream - cart.EntriesSentUpstream,
				clusterStats(t, s, checkoutCluster).EntriesSentUpstream - checkout.EntriesSentUpstream,
				s.UnknownEntries() - unknown,
			}
			if want := [3]uint64{tc.cart, tc.checkout, tc.no}; got != want {
				t.Errorf("counted (cart, checkout, unknown) %v, want %v", got, want)
			}
		})
	}
}

// A batch names many clusters, its entries sent upstream and not interleaved: each entry
// counts once, to its own cluster.
func TestABatchOfManyClustersCountsEachEntryToItsCluster(t *testing.T) {
	const clusters = 11
	edge := &model.Edge{}
	for i := range clusters {
		name := fmt.Sprintf("svc_%02d", i)
		edge.Routes = append(edge.Routes, model.Route{Name: "shop/" + name,
			Backend: model.Backend{Cluster: name, Host: "127.0.0.1", Port: uint32(9000 + i)}})
	}
	s, err := NewStore(Config{}, edge, newFakeClock(t0).now)
	if err != nil {
		t.Fatal(err)
	}
	var batch []als.Record
	sent, notSent := map[string]uint64{}, map[string]uint64{}
	for i := range 5 * clusters {
		name := fmt.Sprintf("svc_%02d", (i*7)%clusters)
		r := entry("edge-0", name)
		if i%3 == 0 {
			r.Flags |= als.FlagUpstreamConnectionFailure
			notSent[name]++
		} else {
			sent[name]++
		}
		batch = append(batch, r)
	}
	s.ConsumeRecords(batch)
	for i := range clusters {
		name := fmt.Sprintf("svc_%02d", i)
		st := clusterStats(t, s, name)
		if st.EntriesSentUpstream != sent[name] || st.EntriesNotSentUpstream != notSent[name] {
			t.Errorf("%s: %d sent and %d not, want %d and %d", name,
				st.EntriesSentUpstream, st.EntriesNotSentUpstream, sent[name], notSent[name])
		}
	}
}
