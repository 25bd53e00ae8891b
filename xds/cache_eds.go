package xds

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// edsCache serves ClusterLoadAssignments. The backends' are the same for every node and
// live in a LinearCache, which pushes only the assignments that changed, so that endpoint
// churn never rebuilds listeners, routes or clusters. The sink's differs per node (sink
// pinning) and comes from the sinkCache.
//
// Envoy asks for all its assignments in one request, so one watch has two halves: one on
// the LinearCache, for the backends, and one on the sinkCache, for the sink; the first half
// to answer answers for the whole watch and the other is cancelled. An answer from the
// LinearCache is passed on with the sink's known version added to what the client is known
// to hold, so that the next watch does not resend the sink. Each answer holds only what
// changed: EDS, unlike LDS and CDS, does not need the whole state in every response.
//
// Versions are "<backends>~<sink>": the LinearCache's counter and the hash of the node's
// sink assignment, so that each half can find its own in what the client acknowledges.
type edsCache struct {
	backends *cachev3.LinearCache
	sinks    *sinkCache
	log      *slog.Logger
}

var _ cachev3.Cache = (*edsCache)(nil)

// errFetch is returned to REST (Fetch) clients: per-node sink pinning needs a stream.
var errFetch = errors.New("edgetel xds serves endpoints over gRPC streams only")

func (c *edsCache) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, errFetch
}

func (c *edsCache) CreateDeltaWatch(*cachev3.DeltaRequest, cachev3.Subscription, chan cachev3.DeltaResponse) (func(), error) {
	return nil, errDelta
}

func (c *edsCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	if _, named := sub.SubscribedResources()[SinkCluster]; !named && !sub.IsWildcard() {
		return c.backends.CreateWatch(backendsRequest(req), sub, out)
	}
	w := &edsWatch{req: req, sub: sub, out: out, log: c.log, done: make(chan struct{})}
	w.sinkKnown = sub.ReturnedResources()[SinkCluster]
	backends := make(chan cachev3.Response, 1)
	cancelBackends, err := c.backends.CreateWatch(backendsRequest(req), withoutSink(sub), backends)
	if err != nil {
		return nil, err
	}
	sink, sinkWatch, cancelSink := c.sinks.watch(req.GetNode().GetId(), w.sinkKnown)
	select {
	case r := <-backends: // the LinearCache answered at once, and is done with this watch
		w.respond(r, sink)
		if cancelSink != nil {
			cancelSink()
		}
		return func() {}, nil
	default:
	}
	if sink != nil {
		cancelBackends()
		w.respond(nil, sink)
		return func() {}, nil
	}
	go w.wait(backends, sinkWatch.fired, cancelBackends, cancelSink)
	return w.cancel, nil
}

// edsWatch is one EDS watch that includes the sink.
type edsWatch struct {
	req       *cachev3.Request
	sub       cachev3.Subscription
	out       chan cachev3.Response
	sinkKnown string // the version of the sink assignment the client holds
	log       *slog.Logger

	once sync.Once
	done chan struct{}
}

// wait passes on whichever half answers first and cancels the other. It ends with the
// watch, so that a cancelled watch leaves no goroutine behind.
func (w *edsWatch) wait(backends chan cachev3.Response, sink chan *sinkAssignment, cancelBackends, cancelSink func()) {
	select {
	case r := <-backends:
		cancelSink()
		w.respond(r, nil)
	case a := <-sink:
		cancelBackends()
		w.respond(nil, a)
	case <-w.done:
		cancelBackends()
		cancelSink()
	}
}

func (w *edsWatch) cancel() { w.once.Do(func() { close(w.done) }) }

// respond sends the response made of the backends' answer r and the sink assignment a,
// either of which may be nil. The send never blocks: the server gives each watch a channel
// with room for its one response.
func (w *edsWatch) respond(r cachev3.Response, a *sinkAssignment) {
	resp, err := w.merge(r, a)
	if err != nil {
		// Only an assignment that cannot be marshaled gets here, which Validate rules out.
		// Dropping the answer leaves the client on what it has.
		w.log.Error("xds: dropping an endpoints response", "node", w.req.GetNode().GetId(), "error", err)
		return
	}
	w.out <- resp
}

func (w *edsWatch) merge(r cachev3.Response, a *sinkAssignment) (cachev3.Response, error) {
	// Without an answer from the LinearCache, the backends' part is the client's own. It is
	// empty only when the client rejected its first response; the LinearCache would take
	// that for a client that holds nothing, and answer the next request with an empty push.
	backendsVersion, _, _ := strings.Cut(w.req.GetVersionInfo(), "~")
	backendsVersion = cmp.Or(backendsVersion, "0")
	var resources []*anypb.Any
	returned := w.sub.ReturnedResources()
	if r != nil {
		dr, err := r.GetDiscoveryResponse()
		if err != nil {
			return nil, err
		}
		resources = append(resources, dr.GetResources()...)
		backendsVersion = dr.GetVersionInfo()
		returned = r.GetReturnedResources()
	}
	sinkVersion := w.sinkKnown
	if a != nil {
		packed, err := anypb.New(a.cla)
		if err != nil {
			return nil, err
		}
		resources = append(resources, packed)
		sinkVersion = a.version
	}
	returned = maps.Clone(returned)
	if sinkVersion != "" {
		returned[SinkCluster] = sinkVersion
	}
	return &cachev3.PassthroughResponse{
		Request: w.req,
		DiscoveryResponse: &discoveryv3.DiscoveryResponse{
			VersionInfo: backendsVersion + "~" + sinkVersion,
			Resources:   resources,
			TypeUrl:     w.req.GetTypeUrl(),
		},
		ReturnedResources: returned,
	}, nil
}

// backendsRequest is req as the LinearCache must see it. It takes an empty version for a
// client's first request and answers it at once, even with nothing; so it gets the
// backends' part of the version only, and a NACK of a first response (which holds no
// version: the client accepted none) gets a version, lest the answer be an empty push.
func backendsRequest(req *cachev3.Request) *cachev3.Request {
	v, _, _ := strings.Cut(req.GetVersionInfo(), "~")
	if v == "" && req.GetErrorDetail() != nil {
		v = "rejected"
	}
	if v == req.GetVersionInfo() {
		return req
	}
	return withVersion(req, v)
}

// sinklessSubscription is a subscription without the sink, as the LinearCache must see it:
// were the sink among the resources the client holds, the LinearCache, which has no sink,
// would count it as deleted.
type sinklessSubscription struct {
	returned   map[string]string
	subscribed map[string]struct{}
	wildcard   bool
}

func withoutSink(sub cachev3.Subscription) cachev3.Subscription {
	s := sinklessSubscription{
		returned:   maps.Clone(sub.ReturnedResources()),
		subscribed: maps.Clone(sub.SubscribedResources()),
		wildcard:   sub.IsWildcard(),
	}
	delete(s.returned, SinkCluster)
	delete(s.subscribed, SinkCluster)
	return s
}

func (s sinklessSubscription) ReturnedResources() map[string]string     { return s.returned }
func (s sinklessSubscription) SubscribedResources() map[string]struct{} { return s.subscribed }
func (s sinklessSubscription) IsWildcard() bool                         { return s.wildcard }
