package xds

import (
	"errors"
	"slices"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/edgetel/edgetel/model"
)

// Translator translates one model after another and reuses what did not change: the Envoy
// route of a model route that is the same as last time (and its gRPC flavour), the cluster
// of a backend that is the same, the virtual host and the api listener of a host whose
// routes are the same, and the knowledge that they were valid. With 10,000 routes a change
// of one then costs the grouping into virtual hosts and the validation of one route, its
// virtual host and its api listener, instead of all of them; and since the reused messages
// are the very same, the server's hasher does not encode them again either (bench_test.go,
// server_bench_test.go).
//
// Its results are Translate's, and follow the same rule: never modify them, since the next
// result shares their messages. A Translator is safe for concurrent use; translations run
// one at a time.
type Translator struct {
	mu   sync.Mutex
	c    *memo
	opts Options
}

// NewTranslator returns a Translator with nothing cached.
func NewTranslator() *Translator { return NewTranslatorWith(Options{}) }

// NewTranslatorWith returns a Translator that translates with o.
func NewTranslatorWith(o Options) *Translator {
	return &Translator{opts: o, c: &memo{
		routes:   map[string]*cachedRoute{},
		clusters: map[model.Backend]*cachedCluster{},
		vhosts:   map[string]*cachedVHost{},
		apis:     map[string]*cachedAPIListener{},
		checked:  newCheckedSet(),
	}}
}

// Translate is the package's Translate, reusing the previous translation where it can. Its
// Resources' Validate skips the routes, virtual hosts and clusters that an earlier result
// of this Translator validated.
func (t *Translator) Translate(e *model.Edge) (*Resources, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.c.gen++
	res, err := translate(e, t.opts, t.c)
	t.c.sweep()
	res.checked = t.c.checked
	return res, err
}

// memo is a Translator's memory; a nil memo translates everything anew. gen counts
// translations, apiGen calls of APIListeners: an entry that the last one did not use is
// dropped.
type memo struct {
	gen, apiGen uint64
	routes      map[string]*cachedRoute
	clusters    map[model.Backend]*cachedCluster
	vhosts      map[string]*cachedVHost       // by name
	apis        map[string]*cachedAPIListener // by host
	checked     *checkedSet
}

type cachedRoute struct {
	in  model.Route
	out *routev3.Route
	// grpc is out's gRPC flavour (grpcFlavour), built on first use; often out itself.
	grpc *routev3.Route
	key  orderKey
	gen  uint64
}

// cachedVHost is a virtual host and what it was built of: its domains and its routes in the
// model's order (members).
type cachedVHost struct {
	domains []string
	members []*routev3.Route
	out     *routev3.VirtualHost
	gen     uint64
}

type cachedCluster struct {
	out *clusterv3.Cluster
	gen uint64
}

// translateRoutes translates every route, or takes it from the cache if it did not change, and
// returns each one's Envoy route (nil if it cannot be translated) and order key. The routes
// to translate are translated on every CPU: all of them, at the first translation.
func (c *memo) translateRoutes(routes []model.Route) ([]*routev3.Route, []orderKey, error) {
	built := make([]*routev3.Route, len(routes))
	keys := make([]orderKey, len(routes))
	var miss []int
	for i := range routes {
		if e := c.lookup(&routes[i]); e != nil {
			built[i], keys[i] = e.out, e.key
		} else {
			miss = append(miss, i)
		}
	}
	errs := make([]error, len(miss))
	forEach(len(miss), routeChunk, func(j int) {
		r := &routes[miss[j]]
		built[miss[j]], errs[j] = translateRoute(r)
		keys[miss[j]] = newOrderKey(r)
	})
	for j, i := range miss {
		if errs[j] == nil {
			c.store(&routes[i], built[i], keys[i])
		}
	}
	return built, keys, errors.Join(errs...)
}

// route is translateRoutes for one route.
func (c *memo) route(r *model.Route) (*routev3.Route, orderKey, error) {
	if e := c.lookup(r); e != nil {
		return e.out, e.key, nil
	}
	out, err := translateRoute(r)
	key := newOrderKey(r)
	if err == nil {
		c.store(r, out, key)
	}
	return out, key, err
}

// lookup returns the cache entry of r if r did not change since, and keeps it for this
// translation; nil if it changed or there is no cache.
func (c *memo) lookup(r *model.Route) *cachedRoute {
	if c == nil {
		return nil
	}
	prev := c.routes[r.Name]
	if prev == nil || !sameEnvoyRoute(&prev.in, r) {
		return nil
	}
	prev.gen = c.gen
	return prev
}

// store caches the translation of r in place of r's previous one.
func (c *memo) store(r *model.Route, out *routev3.Route, key orderKey) {
	if c == nil {
		return
	}
	if prev := c.routes[r.Name]; prev != nil {
		c.checked.forget(prev.out, prev.grpc)
	}
	c.routes[r.Name] = &cachedRoute{in: *r, out: out, key: key, gen: c.gen}
	c.checked.track(out)
}

// virtualHost returns the virtual host of group g: the previous one of its name if it had the
// same domains and the very same routes, else a new one. Reused, it needs neither ordering
// nor validating nor hashing again.
func (c *memo) virtualHost(g hostGroup, built []*routev3.Route, keys []orderKey) *routev3.VirtualHost {
	if c == nil {
		return buildVirtualHost(g, built, keys)
	}
	name := VirtualHostName(g.domains[0])
	m := members(built, g.routes)
	prev := c.vhosts[name]
	if prev != nil && slices.Equal(prev.domains, g.domains) && slices.Equal(prev.members, m) {
		prev.gen = c.gen
		return prev.out
	}
	if prev != nil {
		c.checked.forget(prev.out)
	}
	vh := buildVirtualHost(g, built, keys)
	c.vhosts[name] = &cachedVHost{domains: g.domains, members: m, out: vh, gen: c.gen}
	c.checked.track(vh)
	return vh
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
			c.checked.forget(e.out, e.grpc)
			delete(c.routes, name)
		}
	}
	for name, e := range c.vhosts {
		if e.gen != c.gen {
			c.checked.forget(e.out)
			delete(c.vhosts, name)
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
