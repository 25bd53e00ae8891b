package metrics

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgetel/edgetel/als"
)

// completeness returns the cluster's ratio, or -1 when it has none.
func completeness(t testing.TB, s *Store, cluster string) float64 {
	t.Helper()
	c := clusterStats(t, s, cluster)
	r, ok := c.Completeness()
	if !ok {
		return -1
	}
	return r
}

// requestsFlush is a flush of a cluster's upstream requests and retries.
func requestsFlush(cluster string, requests, retries float64) []*dto.MetricFamily {
	fams := []*dto.MetricFamily{counterFamily(StatUpstreamRequests, cluster, requests)}
	if retries > 0 {
		fams = append(fams, counterFamily(StatRetries, cluster, retries))
	}
	return fams
}

func TestCompleteness(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store, clock *fakeClock)
		want float64 // -1: no ratio
	}{
		{"is 1 when every request Envoy counted has its entry", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message("edge-0"))
			s.ConsumeRecords(entries(40, "edge-0", checkoutCluster))
			clock.advance(10 * time.Second)
			send(t, f, message("", requestsFlush(checkoutCluster, 40, 0)...))
		}, 1},
		{"is 0.5 when half the entries are missing", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message("edge-0"))
			s.ConsumeRecords(entries(20, "edge-0", checkoutCluster))
			clock.advance(10 * time.Second)
			send(t, f, message("", requestsFlush(checkoutCluster, 40, 0)...))
		}, 0.5},
		{"takes retries out of Envoy's count", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message("edge-0"))
			s.ConsumeRecords(entries(30, "edge-0", checkoutCluster))
			send(t, f, message("", requestsFlush(checkoutCluster, 36, 6)...))
		}, 1},
		{"counts no entry of a request Envoy never sent upstream", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message("edge-0"))
			refused := entries(3, "edge-0", checkoutCluster)
			refused[0].Flags = als.FlagUpstreamConnectionFailure
			refused[1].Flags = als.FlagUpstreamOverflow
			refused[2].UpstreamHost = als.HostPort{} // a local reply, or no healthy host
			s.ConsumeRecords(append(refused, entries(10, "edge-0", checkoutCluster)...))
			send(t, f, message("", counterFamily(StatUpstreamRequests, checkoutCluster, 10),
				counterFamily(StatPendingOverflows, checkoutCluster, 1)))
			if c := clusterStats(t, s, checkoutCluster); c.EntriesNotSentUpstream != 3 || c.EntriesSentUpstream != 10 {
				t.Errorf("%d entries sent upstream and %d not, want 10 and 3", c.EntriesSentUpstream, c.EntriesNotSentUpstream)
			}
		}, 1},
		{"pairs a flush Envoy split in two messages as one", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message("edge-0"))
			s.ConsumeRecords(entries(8, "edge-0", checkoutCluster))
			send(t, f, message("", counterFamily(StatUpstreamRequests, checkoutCluster, 10)))
			send(t, f, message("", counterFamily(StatRetries, checkoutCluster, 2)))
		}, 1},
		{"pairs each node's entries with its own flushes", func(t *testing.T, s *Store, clock *fakeClock) {
			a, b := s.newFeed(), s.newFeed()
			send(t, a, message("edge-0"))
			clock.advance(4 * time.Second)
			send(t, b, message("edge-1"))
			s.ConsumeRecords(entries(10, "edge-0", checkoutCluster))
			s.ConsumeRecords(entries(30, "edge-1", checkoutCluster))
			clock.advance(6 * time.Second)
			send(t, a, message("", requestsFlush(checkoutCluster, 10, 0)...))
			// edge-1's entries wait for edge-1's flush: compared now, they would read as 4.
			if got := completeness(t, s, checkoutCluster); got != 1 {
				t.Errorf("after edge-0's flush: %v, want 1", got)
			}
			s.ConsumeRecords(entries(10, "edge-1", checkoutCluster))
			clock.advance(4 * time.Second)
			send(t, b, message("", requestsFlush(checkoutCluster, 40, 0)...))
		}, 1},
		{"starts at the first flush of a stream, whose interval was not watched", func(t *testing.T, s *Store, clock *fakeClock) {
			s.ConsumeRecords(entries(5, "edge-0", checkoutCluster)) // before the stream: not paired
			f := s.newFeed()
			send(t, f, message("edge-0", requestsFlush(checkoutCluster, 50, 0)...))
		}, -1},
		{"pairs nothing for a stream that names no node", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message(""))
			s.ConsumeRecords(entries(5, "edge-0", checkoutCluster))
			send(t, f, message("", requestsFlush(checkoutCluster, 5, 0)...))
		}, -1},
		{"forgets pairs once they leave the window", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message("edge-0"))
			s.ConsumeRecords(entries(5, "edge-0", checkoutCluster))
			send(t, f, message("", requestsFlush(checkoutCluster, 10, 0)...))
			clock.advance(5 * time.Minute)
			s.ConsumeRecords(entries(7, "edge-0", checkoutCluster))
			send(t, f, message("", requestsFlush(checkoutCluster, 7, 0)...))
		}, 1},
		{"is absent once the window holds no flush", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message("edge-0"))
			s.ConsumeRecords(entries(5, "edge-0", checkoutCluster))
			send(t, f, message("", requestsFlush(checkoutCluster, 5, 0)...))
			clock.advance(5 * time.Minute)
		}, -1},
		{"restarts its pairs after a model change", func(t *testing.T, s *Store, clock *fakeClock) {
			f := s.newFeed()
			send(t, f, message("edge-0"))
			s.ConsumeRecords(entries(5, "edge-0", checkoutCluster))
			s.SetModel(testEdge())
			send(t, f, message("", requestsFlush(checkoutCluster, 9, 0)...)) // a new baseline
			s.ConsumeRecords(entries(6, "edge-0", checkoutCluster))
			send(t, f, message("", requestsFlush(checkoutCluster, 6, 0)...))
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock(t0)
			s := newTestStore(t, clock)
			tc.run(t, s, clock)
			if got := completeness(t, s, checkoutCluster); got != tc.want {
				t.Errorf("completeness %v, want %v", got, tc.want)
			}
		})
	}
}
