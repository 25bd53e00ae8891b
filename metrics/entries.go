package metrics

import (
	"bytes"
	"sync"

	"github.com/edgetel/edgetel/als"
)

// notSentFlags mark entries of requests that Envoy logged against a cluster without ever
// attaching them to an upstream connection, so that upstream_rq_total never counted them:
// UF (the connection failed) and UO (a circuit breaker overflowed). Entries without an
// upstream host (UH, NC, and local replies such as RL or FI) were not sent either.
const notSentFlags = als.FlagUpstreamConnectionFailure | als.FlagUpstreamOverflow

// sentUpstream reports whether Envoy counted r's request in upstream_rq_total.
func sentUpstream(r *als.Record) bool {
	return !r.UpstreamHost.IsZero() && r.Flags&notSentFlags == 0
}

// node is an Envoy node with a stats stream open: the entries the sink received from it
// per cluster, so that each of its flushes is paired with the entries of the same interval
// (see Store).
type node struct {
	id   string
	refs int // streams open under the ID; under Store.nodesMu

	mu      sync.Mutex
	tbl     *table   // the model the counts are indexed by
	entries []uint64 // entries sent upstream, per cluster index, since tbl
	taken   []uint64 // entries at the node's last flush
	primed  bool     // a flush has set taken since tbl
}

// sync reindexes the node's counts for the model t. Counts of the old model are dropped
// with the pairs they would have made: the next flush sets a new baseline.
func (n *node) sync(t *table) {
	if n.tbl == t {
		return
	}
	n.tbl, n.primed = t, false
	n.entries, n.taken = make([]uint64, len(t.clusters)), make([]uint64, len(t.clusters))
}

// register returns the node a stream names, creating it on its first stream, or nil for an
// ID that cannot be tracked: empty, or over maxNodeIDBytes.
func (s *Store) register(id []byte) *node {
	if len(id) == 0 || len(id) > maxNodeIDBytes {
		return nil
	}
	s.nodesMu.Lock()
	defer s.nodesMu.Unlock()
	n := s.nodes[string(id)]
	if n == nil {
		n = &node{id: string(id)}
		s.nodes[n.id] = n
	}
	n.refs++
	return n
}

// unregister drops a stream's hold on n; the node is forgotten with its last stream.
func (s *Store) unregister(n *node) {
	s.nodesMu.Lock()
	defer s.nodesMu.Unlock()
	if n.refs--; n.refs == 0 {
		delete(s.nodes, n.id)
	}
}

func (s *Store) lookupNode(id []byte) *node {
	s.nodesMu.RLock()
	defer s.nodesMu.RUnlock()
	return s.nodes[string(id)] // no allocation: the compiler elides the copy
}

// ConsumeRecords counts a batch of access-log entries by cluster. It keeps nothing of the
// records, allocates nothing, and locks a node once per run of records from it: the records
// of one message all come from one node.
func (s *Store) ConsumeRecords(batch []als.Record) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tbl
	var cur *node
	var curID []byte
	looked := false
	for i := range batch {
		r := &batch[i]
		if len(r.UpstreamCluster) == 0 {
			continue // no route matched: there is no cluster to count it for
		}
		c := t.clusterOf(r)
		if c == nil {
			s.unknownEntries.Add(1)
			continue
		}
		if !sentUpstream(r) {
			c.st.notSent.Add(1)
			continue
		}
		c.st.sent.Add(1)
		if !looked || !bytes.Equal(curID, r.Node) {
			if cur != nil {
				cur.mu.Unlock()
			}
			cur, curID, looked = s.lookupNode(r.Node), r.Node, true
			if cur != nil {
				cur.mu.Lock()
				cur.sync(t)
			}
		}
		if cur != nil {
			cur.entries[c.idx]++
		}
	}
	if cur != nil {
		cur.mu.Unlock()
	}
}
