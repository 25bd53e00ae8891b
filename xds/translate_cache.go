package xds

import (
	"slices"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/model"
)

// Translator translates one model after another and reuses what did not change: the Envoy
// route of a model route that is the same as last time, the cluster of a backend that is the
// same, and the knowledge that they were valid. With 10,000 routes a change of one then
// costs the grouping into virtual hosts and the validation of one route instead of all of
// them (bench_test.go).
//
// Its results are Translate's, and follow the same rule: never modify them, since the next
// result shares their messages. A Translator is safe for concurrent use; translations run
// one at a time.
type Translator struct {
	mu sync.Mutex
	c  *memo
}

// NewTranslator returns a Translator with nothing cached.
func NewTranslator() *Translator {
	return &Translator{c: &memo{
		routes:   map[string]*cachedRoute{},
		clusters: map[model.Backend]*cachedCluster{},
		checked:  newCheckedSet(),
	}}
}

// Translate is the package's Translate, reusing the previous translation where it can. Its
// Resources' Validate skips the routes and clusters that an earlier result of this
// Translator validated.
func (t *Translator) Translate(e *model.Edge) (*Resources, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.c.gen++
	res, err := translate(e, t.c)
	t.c.sweep()
	res.checked = t.c.checked
	return res, err
}

// memo is a Translator's memory; a nil memo translates everything anew. gen counts
// translations: an entry that the last one did not use is dropped.
type memo struct {
	gen      uint64
	routes   map[string]*cachedRoute
	clusters map[model.Backend]*cachedCluster
	checked  *checkedSet
}

type cachedRoute struct {
	in  model.Route
	out *routev3.Route
	key orderKey
	gen uint64
}

type cachedCluster struct {
	out *clusterv3.Cluster
	gen uint64
}

// route returns the route's Envoy route and its order key, from the cache if the route did
// not change.
func (c *memo) route(r *model.Route) (*routev3.Route, orderKey, error) {
	if c == nil {
		out, err := translateRoute(r)
		return out, newOrderKey(r), err
	}
	prev := c.routes[r.Name]
	if prev != nil && sameEnvoyRoute(&prev.in, r) {
		prev.gen = c.gen
		return prev.out, prev.key, nil
	}
	out, err := translateRoute(r)
	key := newOrderKey(r)
	if err == nil {
		if prev != nil {
			c.checked.forget(prev.out)
		}
		c.routes[r.Name] = &cachedRoute{in: *r, out: out, key: key, gen: c.gen}
		c.checked.track(out)
	}
	return out, key, err
}

// cluster returns the backend's cluster, from the cache if it was built before.
func (c *memo) cluster(b model.Backend) (*clusterv3.Cluster, error) {
	if c == nil {
		return backendCluster(b)
	}
	if prev := c.clusters[b]; prev != nil {
		prev.gen = c.gen
		return prev.out, nil
	}
	out, err := backendCluster(b)
	if err == nil {
		c.clusters[b] = &cachedCluster{out: out, gen: c.gen}
		c.checked.track(out)
	}
	return out, err
}

// sweep drops what the last translation did not use.
func (c *memo) sweep() {
	for name, e := range c.routes {
		if e.gen != c.gen {
			c.checked.forget(e.out)
			delete(c.routes, name)
		}
	}
	for b, e := range c.clusters {
		if e.gen != c.gen {
			c.checked.forget(e.out)
			delete(c.clusters, b)
		}
	}
}

// sameEnvoyRoute reports whether a and b translate to the same Envoy route: every field
// translateRoute and newOrderKey read is equal. (The SLO and the source are not among them.)
func sameEnvoyRoute(a, b *model.Route) bool {
	return a.Name == b.Name && a.Backend == b.Backend && a.Timeout == b.Timeout &&
		a.SamplingPercent == b.SamplingPercent && sameMatch(a.Match, b.Match) &&
		sameRetries(a.Retries, b.Retries) && slices.Equal(a.Hosts, b.Hosts)
}

func sameMatch(a, b model.Match) bool {
	return a.Prefix == b.Prefix && a.Path == b.Path && a.Regex == b.Regex &&
		slices.Equal(a.Methods, b.Methods) && slices.Equal(a.Headers, b.Headers)
}

func sameRetries(a, b *model.Retries) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Attempts == b.Attempts && a.PerTryTimeout == b.PerTryTimeout && slices.Equal(a.On, b.On)
}

// checkedSet holds the messages a Translator has cached, and whether each was found valid,
// by identity: a cached message is the very one validated before, unchanged since, as
// Resources may not be modified. Only tracked messages are remembered, so that a late
// Validate of an old result cannot grow the set.
type checkedSet struct {
	mu    sync.RWMutex
	valid map[proto.Message]bool
}

func newCheckedSet() *checkedSet { return &checkedSet{valid: map[proto.Message]bool{}} }

func (s *checkedSet) has(m proto.Message) bool {
	if s == nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.valid[m]
}

func (s *checkedSet) add(m proto.Message) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, tracked := s.valid[m]; tracked {
		s.valid[m] = true
	}
}

func (s *checkedSet) track(m proto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.valid[m] = false
}

func (s *checkedSet) forget(m proto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.valid, m)
}
