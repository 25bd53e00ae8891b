package xds

import (
	"encoding/hex"
	"sync"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/edgetel/edgetel/model"
)

// sinkAssignment is the sink's ClusterLoadAssignment as one node sees it, and its version.
// It is shared by every node pinned to the same endpoint and never modified.
type sinkAssignment struct {
	cla     *endpointv3.ClusterLoadAssignment
	version string
}

// sinkCache is the only per-node state of the server: which sink endpoint each node is
// pinned to (Pin). It keeps no table of nodes — the pin is recomputed from the node ID —
// only the open EDS watches that include the sink, by node, so that a change of the sink's
// endpoints wakes exactly the nodes whose pin moved.
//
// DESIGN.md has pinning go "through go-control-plane's per-node snapshots". A snapshot per
// node would hold every resource, so each policy change would rebuild N snapshots and each
// endpoint change would resend every assignment; keeping the one per-node assignment apart
// leaves listeners, routes and clusters in one shared snapshot and backends in the
// LinearCache.
type sinkCache struct {
	mu sync.Mutex
	// endpoints are the sink's ready endpoints (SetSinkEndpoints), sorted.
	endpoints []model.Endpoint
	// fallback is served to every node while endpoints is empty: the sink assignment the
	// translator published, if any, else one without endpoints.
	fallback *sinkAssignment
	// byEndpoint memoizes the assignment of each endpoint, so that the nodes pinned to one
	// share one message (and one marshaling).
	byEndpoint map[string]*sinkAssignment
	watches    map[string]map[*sinkWatch]struct{}
}

// sinkWatch is an EDS watch waiting for the sink assignment of its node to differ from the
// version the node has.
type sinkWatch struct {
	node  string
	known string
	// fired receives the new assignment, once; it has room for it, so that firing never
	// blocks under the cache's lock.
	fired chan *sinkAssignment
}

func newSinkCache() *sinkCache {
	c := &sinkCache{byEndpoint: map[string]*sinkAssignment{}, watches: map[string]map[*sinkWatch]struct{}{}}
	c.fallback = mustAssign(EndpointsFor(SinkCluster, nil))
	return c
}

func mustAssign(cla *endpointv3.ClusterLoadAssignment) *sinkAssignment {
	d, err := messageDigest(cla)
	if err != nil {
		// Only a string that is not UTF-8 fails to marshal, and addresses from EndpointSlices
		// and policies are checked before they get here.
		panic("xds: hashing a ClusterLoadAssignment: " + err.Error())
	}
	return &sinkAssignment{cla: cla, version: hex.EncodeToString(d[:8])}
}

// assignment returns the sink assignment of node. Called with mu held.
func (c *sinkCache) assignment(node string) *sinkAssignment {
	ep, ok := Pin(node, c.endpoints)
	if !ok {
		return c.fallback
	}
	key := endpointKey(ep)
	a, ok := c.byEndpoint[key]
	if !ok {
		a = mustAssign(EndpointsFor(SinkCluster, []model.Endpoint{ep}))
		c.byEndpoint[key] = a
	}
	return a
}

// watch returns the sink assignment of node when it differs from the version the node
// knows; otherwise it returns a watch that fires when it does, and the function that
// cancels it.
func (c *sinkCache) watch(node, known string) (*sinkAssignment, *sinkWatch, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.assignment(node); a.version != known {
		return a, nil, nil
	}
	w := &sinkWatch{node: node, known: known, fired: make(chan *sinkAssignment, 1)}
	if c.watches[node] == nil {
		c.watches[node] = map[*sinkWatch]struct{}{}
	}
	c.watches[node][w] = struct{}{}
	return nil, w, func() { c.cancel(w) }
}

func (c *sinkCache) cancel(w *sinkWatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(w)
}

func (c *sinkCache) remove(w *sinkWatch) {
	delete(c.watches[w.node], w)
	if len(c.watches[w.node]) == 0 {
		delete(c.watches, w.node)
	}
}

// setEndpoints replaces the sink's endpoints and wakes the nodes whose pin moved.
func (c *sinkCache) setEndpoints(eps []model.Endpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endpoints = sortEndpoints(eps)
	c.byEndpoint = map[string]*sinkAssignment{}
	c.notify()
}

// setFallback sets what is served while the sink has no endpoints of its own; nil serves an
// assignment without endpoints.
func (c *sinkCache) setFallback(cla *endpointv3.ClusterLoadAssignment) {
	if cla == nil {
		cla = EndpointsFor(SinkCluster, nil)
	}
	a := mustAssign(cla)
	c.mu.Lock()
	defer c.mu.Unlock()
	if a.version == c.fallback.version {
		return
	}
	c.fallback = a
	c.notify()
}

// notify fires every watch whose node's assignment changed. Called with mu held; the cost is
// one Pin per watching node.
func (c *sinkCache) notify() {
	for node, ws := range c.watches {
		a := c.assignment(node)
		for w := range ws {
			if a.version != w.known {
				w.fired <- a
				c.remove(w)
			}
		}
	}
}

// numWatches returns the number of open watches, for tests.
func (c *sinkCache) numWatches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ws := range c.watches {
		n += len(ws)
	}
	return n
}
