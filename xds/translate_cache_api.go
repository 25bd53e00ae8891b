package xds

import (
	"slices"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/edgetel/edgetel/model"
)

// APIListeners is the package's APIListeners, reusing what did not change: the gRPC flavour
// of every route Translate cached, and the whole api listener of a host whose routes are the
// same messages in the same order. Call it after Translate of the same model, whose routes it
// reuses; a route Translate did not see is translated and kept until the next Translate.
//
// The listeners are remembered for Validate as Translate's resources are: a Resources of
// this Translator validates a listener it has validated before no more, and the routes
// inside a new listener one by one, skipping those known valid.
func (t *Translator) APIListeners(e *model.Edge) []*listenerv3.Listener {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.c.apiGen++
	out := apiListeners(e, t.c)
	for host, a := range t.c.apis {
		if a.gen != t.c.apiGen {
			t.c.checked.forget(a.out)
			delete(t.c.apis, host)
		}
	}
	return out
}

// cachedAPIListener is the api listener of one host and its routes in the model's order
// (members).
type cachedAPIListener struct {
	members []*routev3.Route
	out     *listenerv3.Listener
	gen     uint64
}

// grpcRoute returns the gRPC flavour of the route and its order key, nil if the route
// cannot be translated (Translate reports why).
func (c *memo) grpcRoute(r *model.Route) (*routev3.Route, orderKey) {
	rt, key, err := c.route(r)
	if err != nil {
		return nil, key
	}
	if c == nil {
		return grpcFlavour(r, rt), key
	}
	e := c.routes[r.Name]
	if e.grpc == nil {
		e.grpc = grpcFlavour(r, rt)
		if e.grpc != rt {
			c.checked.track(e.grpc)
		}
	}
	return e.grpc, key
}

// apiListeners returns the api listener of every host that has routes: the previous one if
// it had the very same routes, else a new one. The new ones are built (and their connection
// managers marshaled into their Anys) on every CPU: a hundred hosts at the first translation.
func (c *memo) apiListeners(hosts []apiHost) []*listenerv3.Listener {
	out := make([]*listenerv3.Listener, len(hosts))
	routes := make([][]*routev3.Route, len(hosts))
	var miss []int
	for i, h := range hosts {
		if prev := c.apiListenerOf(h); prev != nil {
			prev.gen = c.apiGen
			out[i] = prev.out
		} else if routes[i] = h.order(); len(routes[i]) > 0 {
			miss = append(miss, i)
		}
	}
	hcms := make([]*hcmv3.HttpConnectionManager, len(hosts))
	forEach(len(miss), hostChunk, func(j int) {
		i := miss[j]
		out[i], hcms[i] = buildAPIListener(hosts[i].host, routes[i])
	})
	for _, i := range miss {
		c.storeAPIListener(hosts[i], out[i], hcms[i])
	}
	return slices.DeleteFunc(out, func(l *listenerv3.Listener) bool { return l == nil })
}

// apiListenerOf returns the cache entry of h's listener if h's routes are the same.
func (c *memo) apiListenerOf(h apiHost) *cachedAPIListener {
	if c == nil {
		return nil
	}
	if prev := c.apis[h.host]; prev != nil && slices.Equal(prev.members, h.members) {
		return prev
	}
	return nil
}

func (c *memo) storeAPIListener(h apiHost, l *listenerv3.Listener, hcm *hcmv3.HttpConnectionManager) {
	if c == nil {
		return
	}
	if prev := c.apis[h.host]; prev != nil {
		c.checked.forget(prev.out)
	}
	c.apis[h.host] = &cachedAPIListener{members: h.members, out: l, gen: c.apiGen}
	c.checked.trackPacked(l, hcm)
}
