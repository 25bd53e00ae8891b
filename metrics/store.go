package metrics

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// Store joins Envoy's cluster stats and the access log to the clusters of the model in force.
// It is an als.Consumer (it counts access-log entries per cluster), the Receiver feeds it the
// stats, and it is a prometheus.Collector of both. Its methods are safe for concurrent use.
//
// # Keys
//
// Everything is keyed by the model's clusters (Backend.Cluster), so a cluster that Envoy or
// the access log names and the model does not have is dropped and counted: cardinality is
// bounded by the model. Several routes may share a cluster; they then share its numbers,
// which are the cluster's, not each route's.
//
// # Counting
//
// Counters add up the deltas that every node reports (report_counters_as_deltas), so they
// are the fleet's counts since the sink began counting the cluster. A gauge (outlier
// ejections active) keeps the latest level each stream reported, summed over the streams;
// a stream that ends takes its levels with it.
//
// # Completeness
//
// The completeness ratio compares the access-log entries the sink received for a cluster
// with the requests Envoy counted for it, over the last CompletenessWindow. Both sides
// count the same thing: a request that Envoy sent upstream, once.
//   - Envoy's side is upstream_rq_total minus upstream_rq_retry: upstream_rq_total counts a
//     request each time it is attached to an upstream connection, so a retry counts again.
//   - The access log's side is the entries that have an upstream host and neither UF nor UO:
//     requests that failed to connect or overflowed a circuit breaker are logged but never
//     reach upstream_rq_total.
//
// The two reach the sink on different clocks: access logs within a second or so, stats once
// per flush (10s). Compared as they arrive, a window would hold one flush more or less than
// its logs, an error of up to a flush interval's traffic. So entries are counted per Envoy
// node, and at each of a node's flushes the entries received from that node since its
// previous flush are paired with the requests the flush reports: each pair covers the same
// interval on the same node, whatever the phase of the node's flushes. The ratio is the sum
// of the pairs of the window. What remains is the log's own delay (a request's entry may
// arrive after the flush that counted it), which moves a few entries to the next pair and
// cancels out over the window. Pairs exist only for nodes with a stats stream open; the
// first flush of a stream sets the node's baseline, since the entries before it were not
// counted per node.
//
// The ratio is over a recent window rather than since the start, so that a loss shows while
// it happens instead of being diluted by hours of good data; the raw counters
// (edgetel_access_log_entries_total and the Envoy counters) give any other window in PromQL,
// though without the pairing. Caveats: a retry whose attempt never reached a connection
// is subtracted without having been counted, and a request retried after a connection
// failure is logged without UF; both make the ratio read slightly high. A stats message that
// Envoy failed to send loses its deltas (Envoy does not resend them), which reads as more
// entries than requests.
type Store struct {
	cfg   Config
	now   func() time.Time
	slots int64 // completeness window, in slots

	// mu is read-locked to count and write-locked to swap the model, so that a swap loses
	// nothing in flight.
	mu   sync.RWMutex
	tbl  *table
	swap sync.Mutex // serialises SetModel, which builds the new table outside mu

	nodesMu sync.RWMutex
	nodes   map[string]*node // nodes with a stats stream open, by node ID

	// unknownEntries counts access-log entries that name a cluster the model does not have.
	unknownEntries atomic.Uint64
}

var _ als.Consumer = (*Store)(nil)

// table is the model's clusters, with their state.
type table struct {
	model    *model.Edge
	byRoute  []*cluster // by position in model.Routes: the route's backend cluster
	byName   map[string]*cluster
	clusters []*cluster // sorted by name
}

// cluster is a cluster of the model in force.
type cluster struct {
	name   string
	idx    int      // in table.clusters, and in each node's entry counts
	routes []string // sorted
	st     *clusterState
}

// clusterState is what is counted for a cluster. It carries over to the next model while
// the cluster stays in it.
type clusterState struct {
	since           time.Time
	counters        [numCounters]atomic.Uint64
	ejectionsActive atomic.Int64
	sent, notSent   atomic.Uint64 // access-log entries, by whether Envoy sent them upstream

	mu  sync.Mutex
	win window
}

// NewStore returns a store for the clusters of m (nil for none yet). now is its clock,
// time.Now if nil; tests inject a fake one.
func NewStore(cfg Config, m *model.Edge, now func() time.Time) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	cfg = cfg.withDefaults()
	s := &Store{cfg: cfg, now: now, slots: int64(cfg.CompletenessWindow / slotWidth),
		nodes: map[string]*node{}}
	s.tbl = s.buildTable(m, nil)
	return s, nil
}

// SetModel makes m the model in force. A cluster that stays keeps its counts; a new one
// starts at zero; one no longer in m is forgotten and its series disappear.
func (s *Store) SetModel(m *model.Edge) {
	s.swap.Lock()
	defer s.swap.Unlock()
	tbl := s.buildTable(m, s.tbl) // s.tbl changes only under swap
	s.mu.Lock()
	s.tbl = tbl
	s.mu.Unlock()
}

func (s *Store) buildTable(m *model.Edge, old *table) *table {
	t := &table{model: m, byName: map[string]*cluster{}}
	if m == nil {
		return t
	}
	for _, r := range m.Routes {
		name := r.Backend.Cluster
		// A name that cannot be a label value would fail every scrape; the model validates
		// names, this keeps the sink up if it did not.
		if name == "" || !utf8.ValidString(name) || !utf8.ValidString(r.Name) {
			continue
		}
		c := t.byName[name]
		if c == nil {
			c = &cluster{name: name}
			if o := old.lookup(name); o != nil {
				c.st = o.st
			} else {
				c.st = &clusterState{since: s.now(), win: newWindow(s.slots)}
			}
			t.byName[name] = c
			t.clusters = append(t.clusters, c)
		}
		if !slices.Contains(c.routes, r.Name) {
			c.routes = append(c.routes, r.Name)
		}
	}
	slices.SortFunc(t.clusters, func(a, b *cluster) int { return cmp.Compare(a.name, b.name) })
	for i, c := range t.clusters {
		c.idx = i
		slices.Sort(c.routes)
	}
	t.byRoute = make([]*cluster, len(m.Routes))
	for i := range m.Routes {
		t.byRoute[i] = t.byName[m.Routes[i].Backend.Cluster]
	}
	return t
}

// clusterOf returns the model's cluster that r was sent to, nil if none. Envoy logs the
// cluster of the route it matched, as a rule: the route the decoder resolved (see
// als.Record.RouteIn) gives the candidate, and the name confirms it.
func (t *table) clusterOf(r *als.Record) *cluster {
	if pos, ok := r.RouteIn(t.model); ok && pos < len(t.byRoute) {
		if c := t.byRoute[pos]; c != nil && c.name == string(r.UpstreamCluster) {
			return c
		}
	}
	return t.byName[string(r.UpstreamCluster)]
}

func (t *table) lookup(name string) *cluster {
	if t == nil {
		return nil
	}
	return t.byName[name]
}

// ClusterStats is what the store knows of one cluster of the model.
type ClusterStats struct {
	Cluster string
	// Routes are the routes whose backend is the cluster, sorted. They share every number
	// below: the numbers are the cluster's.
	Routes []string
	// Since is when the store began counting the cluster.
	Since time.Time

	// Envoy's counters, summed over the nodes since Since.
	UpstreamRequests    uint64 // upstream_rq_total: attempts, retries included
	Retries             uint64 // upstream_rq_retry
	RetrySuccesses      uint64 // upstream_rq_retry_success
	Timeouts            uint64 // upstream_rq_timeout: the route timeout fired
	PerTryTimeouts      uint64 // upstream_rq_per_try_timeout
	ConnectionOverflows uint64 // upstream_cx_overflow: max_connections breaker
	PendingOverflows    uint64 // upstream_rq_pending_overflow: max_pending_requests, max_requests
	RetryOverflows      uint64 // upstream_rq_retry_overflow: max_retries breaker or retry budget
	OutlierEjections    uint64 // outlier_detection.ejections_enforced_total
	// OutlierEjectionsActive is outlier_detection.ejections_active, summed over the streams.
	OutlierEjectionsActive int64

	// Access-log entries since Since: those Envoy sent upstream, and the others (local
	// replies, connect failures, overflows).
	EntriesSentUpstream, EntriesNotSentUpstream uint64

	// The completeness window's sums: entries paired with Envoy's flushes, and the requests
	// those flushes reported. Completeness is their ratio, valid when WindowRequests > 0.
	WindowEntries  uint64
	WindowRequests int64
}

// Completeness is WindowEntries / WindowRequests: 1 when the sink received an access-log
// entry for every request Envoy counted, below 1 when entries were lost. ok is false when
// the window holds no request to compare with.
func (c *ClusterStats) Completeness() (ratio float64, ok bool) {
	if c.WindowRequests <= 0 {
		return 0, false
	}
	return float64(c.WindowEntries) / float64(c.WindowRequests), true
}

// Clusters returns the state of every cluster of the model, sorted by name.
func (s *Store) Clusters() []ClusterStats {
	slot := s.slotOf(s.now())
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ClusterStats, 0, len(s.tbl.clusters))
	for _, c := range s.tbl.clusters {
		out = append(out, c.stats(slot))
	}
	return out
}

// UnknownEntries counts the access-log entries that named a cluster the model did not have.
func (s *Store) UnknownEntries() uint64 { return s.unknownEntries.Load() }

func (c *cluster) stats(slot int64) ClusterStats {
	st := c.st
	n := func(s stat) uint64 { return st.counters[s].Load() }
	out := ClusterStats{
		Cluster: c.name, Routes: slices.Clone(c.routes), Since: st.since,
		UpstreamRequests: n(statUpstreamRequests), Retries: n(statRetries),
		RetrySuccesses: n(statRetrySuccesses), Timeouts: n(statTimeouts),
		PerTryTimeouts: n(statPerTryTimeouts), ConnectionOverflows: n(statConnectionOverflows),
		PendingOverflows: n(statPendingOverflows), RetryOverflows: n(statRetryOverflows),
		OutlierEjections: n(statOutlierEjections), OutlierEjectionsActive: st.ejectionsActive.Load(),
		EntriesSentUpstream: st.sent.Load(), EntriesNotSentUpstream: st.notSent.Load(),
	}
	st.mu.Lock()
	out.WindowEntries, out.WindowRequests = st.win.sum(slot)
	st.mu.Unlock()
	return out
}

func (s *Store) slotOf(t time.Time) int64 { return t.UnixNano() / int64(slotWidth) }
