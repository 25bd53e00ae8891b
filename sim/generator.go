package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"

	"github.com/edgetel/edgetel/model"
)

// Generator makes the requests of one Envoy node, without any network: the fleet sends what
// it makes, the sink's tests and benchmarks use it (or a Corpus) directly.
//
// A generator is deterministic: the same model, seed and workload make the same requests in
// the same order. It is not safe for concurrent use.
type Generator struct {
	rng       *rand.Rand
	routes    []routeGen
	cum       []float64 // cumulative route shares, in model order
	unmatched float64
	sampling  float64 // default sampling, percent, for unmatched requests
	hosts     []string

	epoch, now time.Time
	meanGap    float64 // seconds between requests

	scheme    string
	localIP   string
	localPort uint32
	// logged says which of the headers the generator knows Envoy logs with each entry.
	logged loggedHeaders

	req Request // what Next returns
}

// routeGen is what the generator needs of one route, resolved once.
type routeGen struct {
	route     *model.Route
	prof      Profile
	hosts     []string
	methods   []string
	upstreams []hostPort
	incidents []Incident
	timeout   time.Duration
}

type hostPort struct {
	host string
	port uint32
}

const (
	// envoyDefaultRouteTimeout is what Envoy applies to a route that sets no timeout.
	envoyDefaultRouteTimeout = 15 * time.Second
	// fallbackHost is the authority of requests to routes that serve every host.
	fallbackHost      = "edge.example.com"
	defaultListenPort = 10000
	defaultLocalIP    = "10.0.0.10"
)

// NewGenerator returns a generator of w's traffic over edge's routes, its clock starting at
// w.Epoch (the wall clock when zero).
func NewGenerator(edge *model.Edge, seed uint64, w Workload) (*Generator, error) {
	if err := w.Validate(edge); err != nil {
		return nil, err
	}
	if w.Epoch.IsZero() {
		w.Epoch = time.Now()
	}
	g := &Generator{
		// The second PCG word is fixed so that one seed names one sequence.
		rng:       rand.New(rand.NewPCG(seed, 0x5eed_ed9e_7e1e_0001)),
		unmatched: w.Unmatched,
		sampling:  edge.DefaultSamplingPercent,
		epoch:     w.Epoch,
		now:       w.Epoch,
		meanGap:   1 / w.Rate,
		scheme:    "http",
		localIP:   defaultLocalIP,
		localPort: defaultListenPort,
		logged:    loggedFrom(edge.AccessLog.RequestHeaders),
	}
	if len(edge.Listeners) > 0 {
		g.localPort = edge.Listeners[0].Port
		if edge.Listeners[0].TLS != nil {
			g.scheme = "https"
		}
	}
	sum := 0.0
	for i := range edge.Routes {
		rg := newRouteGen(&edge.Routes[i], w)
		sum += rg.prof.Share
		g.routes = append(g.routes, rg)
		g.cum = append(g.cum, sum)
		g.hosts = append(g.hosts, rg.hosts...)
	}
	return g, nil
}

func newRouteGen(r *model.Route, w Workload) routeGen {
	rg := routeGen{route: r, hosts: r.Hosts, methods: r.Match.Methods, timeout: r.Timeout}
	var ok bool
	if rg.prof, ok = w.Profiles[r.Name]; !ok {
		rg.prof = DefaultProfile(*r)
	}
	if len(rg.hosts) == 0 {
		rg.hosts = []string{fallbackHost}
	}
	if rg.timeout <= 0 {
		rg.timeout = envoyDefaultRouteTimeout
	}
	for _, in := range w.Incidents {
		if in.Route == r.Name {
			rg.incidents = append(rg.incidents, in)
		}
	}
	rg.upstreams = upstreamsOf(r.Backend)
	return rg
}

// upstreamsOf returns the hosts a backend's cluster balances over: its address, or for a
// Kubernetes Service three pod IPs derived from the cluster name, stable across runs.
func upstreamsOf(b model.Backend) []hostPort {
	if !b.IsKubernetes() {
		return []hostPort{{b.Host, b.Port}}
	}
	h := fnv.New32a()
	h.Write([]byte(b.Cluster))
	subnet := strconv.Itoa(int(h.Sum32() % 250))
	out := make([]hostPort, 3)
	for i := range out {
		out[i] = hostPort{"10.244." + subnet + "." + strconv.Itoa(10+i), b.Port}
	}
	return out
}

// Now is the generator's clock: the start time of the last request made.
func (g *Generator) Now() time.Time { return g.now }

// Epoch is where the clock started; incident times are relative to it.
func (g *Generator) Epoch() time.Time { return g.epoch }

// AdvanceTo moves the clock forward to t, making no requests in between; it never moves
// the clock back. The fleet calls it when real-time traffic (re)starts, so start times
// follow the wall clock while incidents stay where the epoch put them.
func (g *Generator) AdvanceTo(t time.Time) {
	if t.After(g.now) {
		g.now = t
	}
}

// Next makes the next request and renders its access-log entry into e (see FillEntry). The
// returned request belongs to the generator and is overwritten by the next call.
func (g *Generator) Next(e *accesslogv3.HTTPAccessLogEntry) *Request {
	g.NextRequest(&g.req)
	g.FillEntry(e, &g.req)
	return &g.req
}

// NextRequest advances the clock by the gap to the next request and describes it in r.
func (g *Generator) NextRequest(r *Request) {
	g.now = g.now.Add(time.Duration(g.rng.ExpFloat64() * g.meanGap * float64(time.Second)))
	*r = Request{Start: g.now, Scheme: g.scheme, Protocol: "HTTP/2"}
	if g.rng.Float64() < 0.4 {
		r.Protocol = "HTTP/1.1"
	}
	var rg *routeGen
	if len(g.routes) > 0 && g.rng.Float64() >= g.unmatched {
		rg = g.pickRoute()
	}
	sampling := g.sampling
	if rg != nil {
		sampling = rg.route.SamplingPercent
	}
	r.Sampled = g.rng.Float64()*100 < sampling
	r.TraceID, r.SpanID = newTraceIDs(g.rng)
	r.RequestID = newUUID(g.rng, r.Sampled)
	g.client(r)
	if rg == nil {
		g.noRoute(r)
		return
	}
	r.Route, r.RouteName = rg.route, rg.route.Name
	g.request(r, rg)
	g.respond(r, rg)
	g.sizes(r)
}

func (g *Generator) pickRoute() *routeGen {
	total := g.cum[len(g.cum)-1]
	if total <= 0 {
		return nil
	}
	u := g.rng.Float64() * total
	for i, c := range g.cum {
		if u < c {
			return &g.routes[i]
		}
	}
	return &g.routes[len(g.routes)-1]
}

// respond decides how the request ends. The upstream latency is drawn first: most outcomes
// take it, and an answer slower than the route timeout becomes Envoy's timeout instead.
func (g *Generator) respond(r *Request, rg *routeGen) {
	errRatio, factor := rg.prof.ErrorRatio, 1.0
	off := r.Start.Sub(g.epoch)
	for _, in := range rg.incidents {
		if in.active(off) {
			errRatio, r.Incident = in.ErrorRatio, true
			if in.LatencyFactor > 0 {
				factor = in.LatencyFactor
			}
			break
		}
	}
	latency := g.lognormal(float64(rg.prof.Median)*factor, rg.prof.Sigma)
	up := rg.upstreams[g.rng.IntN(len(rg.upstreams))]
	r.UpstreamHost, r.UpstreamPort, r.Attempts = up.host, up.port, 1
	u := g.rng.Float64()
	switch {
	case u < errRatio:
		g.serverError(r, rg, latency)
	case u < errRatio+rg.prof.ClientErrorRatio:
		r.Cause, r.Status, r.Duration = CauseClientError, clientErrorCodes[g.rng.IntN(len(clientErrorCodes))], latency
	default:
		r.Cause, r.Status, r.Duration = CauseOK, okStatus(r.Method), latency
	}
	if r.Cause.upstreamAnswered() && r.Duration >= rg.timeout {
		// Envoy would not have waited: the route timeout fires first.
		r.Cause, r.Duration = CauseTimeout, rg.timeout
	}
	if rep := causeReplies[r.Cause]; rep.status != 0 {
		r.Status, r.Flags = rep.status, rep.flags
	}
}

var clientErrorCodes = []uint32{404, 404, 404, 400, 401, 409}

func okStatus(method string) uint32 {
	switch method {
	case "POST":
		return 201
	case "DELETE":
		return 204
	}
	return 200
}

// serverError picks how a failing request fails, in a mix like a real edge's: mostly the
// upstream's own 5xx, then Envoy's connect failures, overflows, timeouts and exhausted
// retries, each with the duration it takes.
func (g *Generator) serverError(r *Request, rg *routeGen, latency time.Duration) {
	v := g.rng.Float64()
	jitter := time.Duration(g.rng.Int64N(int64(2 * time.Millisecond)))
	switch {
	case v < 0.40:
		r.Cause, r.Status, r.Duration = CauseUpstreamError, 500, latency
	case v < 0.55:
		r.Cause, r.Duration = CauseConnectFailure, time.Millisecond+jitter
	case v < 0.65:
		r.Cause, r.Duration = CauseOverflow, 100*time.Microsecond+jitter/8
		r.UpstreamHost, r.UpstreamPort = "", 0 // the breaker trips before a host is picked
	case v < 0.80:
		r.Cause, r.Duration = CauseTimeout, rg.timeout+jitter
	case rg.route.Retries != nil && rg.route.Retries.Attempts > 0:
		r.Attempts = rg.route.Retries.Attempts + 1
		r.Cause, r.Duration = CauseRetriesExhausted, latency*time.Duration(r.Attempts)
	default:
		r.Cause, r.Status, r.Duration = CauseUpstreamError, 503, latency
	}
}

// noRoute makes a request that matches no route: Envoy answers 404 itself, flag NR.
func (g *Generator) noRoute(r *Request) {
	r.RouteName = model.UnmatchedRoute
	r.Method = "GET"
	r.Authority = fallbackHost
	if len(g.hosts) > 0 {
		r.Authority = g.hosts[g.rng.IntN(len(g.hosts))]
	}
	r.Path = strayPaths[g.rng.IntN(len(strayPaths))]
	r.Cause, r.Status, r.Flags = CauseNoRoute, 404, causeReplies[CauseNoRoute].flags
	r.Duration = 80*time.Microsecond + time.Duration(g.rng.Int64N(int64(300*time.Microsecond)))
	g.sizes(r)
}

// lognormal draws a duration whose logarithm is normal around ln(median), capped at an hour
// so a wild sigma cannot overflow.
func (g *Generator) lognormal(median, sigma float64) time.Duration {
	d := median * math.Exp(sigma*g.rng.NormFloat64())
	return time.Duration(min(d, float64(time.Hour)))
}
