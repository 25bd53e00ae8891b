package ui

import (
	"bytes"
	"encoding/hex"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

// BadRequest is one request that broke an objective of its route, as the route page lists it.
type BadRequest struct {
	Route string
	// Time is when Envoy received the request.
	Time   time.Time
	Method string
	// Path is without its query string, which may hold secrets (DESIGN: query strings never
	// leave the sink in clear).
	Path     string
	Status   uint32
	Flags    als.ResponseFlags
	Duration time.Duration
	// Upstream is the upstream host (address:port); empty when none was picked.
	Upstream  string
	RequestID string
	// TraceID is 32 lower-case hex digits from the logged traceparent; empty without one.
	TraceID string
	Sampled bool
	// Unavailable: bad for availability (a 5xx or an Envoy-local failure flag).
	Unavailable bool
	// SlowerThan is the highest latency threshold of the route the request exceeded; 0 if
	// it broke no latency objective.
	SlowerThan time.Duration
}

// BadRequests gives the recent bad requests of a route.
type BadRequests interface {
	// RecentBad returns up to limit of the route's most recent bad requests, newest first.
	RecentBad(route string, limit int) []BadRequest
}

// BadRequestsFunc adapts a function to BadRequests.
type BadRequestsFunc func(route string, limit int) []BadRequest

// RecentBad calls f.
func (f BadRequestsFunc) RecentBad(route string, limit int) []BadRequest { return f(route, limit) }

// DefaultBadRequestsPerRoute is how many bad requests a BadRequestLog keeps per route.
const DefaultBadRequestsPerRoute = 50

// Field caps of a kept request: a hostile header cannot make the log grow.
const (
	maxMethod    = 16
	maxPath      = 128
	maxUpstream  = 64
	maxRequestID = 64
)

// BadRequestLog keeps, per route of the model in force, the last N access-log records that
// broke an objective of the route. It is an als.Consumer to put after the SLI accounting, and
// a config.Applier to hand every model to, for the routes' objectives.
//
// Consuming never blocks for long and never allocates: a batch reads the route table with
// one atomic load; a kept record is copied, capped field by field, into a slot preallocated
// in a fixed-size ring under the route's own mutex, held only for that copy. Memory is
// fixed per route: N slots of 336 bytes (16.8 KB for the default 50), allocated when the
// route appears. A route that stays across models keeps its ring; one that leaves takes it
// along.
type BadRequestLog struct {
	perRoute int
	swap     sync.Mutex // serialises Apply
	tbl      atomic.Pointer[badTable]
}

var (
	_ BadRequests    = (*BadRequestLog)(nil)
	_ BadRequests    = BadRequestsFunc(nil)
	_ als.Consumer   = (*BadRequestLog)(nil)
	_ config.Applier = (*BadRequestLog)(nil)
)

// NewBadRequestLog returns a log keeping perRoute requests per route (the default if ≤ 0).
// It keeps nothing until Apply gives it a model.
func NewBadRequestLog(perRoute int) *BadRequestLog {
	if perRoute <= 0 {
		perRoute = DefaultBadRequestsPerRoute
	}
	l := &BadRequestLog{perRoute: perRoute}
	l.tbl.Store(&badTable{fastest: math.MaxInt64})
	return l
}

// badRoute is one route's objectives and ring.
// badTable is the routes whose bad requests are kept, by name. fastest is the lowest
// latency threshold among them: a request that was available and no slower than that
// broke no objective of any route.
type badTable struct {
	routes  map[string]*badRoute
	model   *model.Edge
	byPos   []*badRoute // by position in model.Routes, as routes has them
	fastest time.Duration
}

// routeOf returns r's route, by the position the decoder resolved when it resolved it in
// this table's model (see als.Record.RouteIn), by name otherwise.
func (t *badTable) routeOf(r *als.Record) *badRoute {
	if pos, ok := r.RouteIn(t.model); ok && pos < len(t.byPos) {
		return t.byPos[pos]
	}
	return t.routes[string(r.RouteName)] // no allocation: the compiler elides the conversion
}

type badRoute struct {
	avail      bool
	thresholds []time.Duration // ascending, distinct

	mu    sync.Mutex
	slots []badSlot
	next  int // slot written next
	count int // slots filled, up to len(slots)
}

// badSlot is a kept request; its byte fields are fixed arrays so that keeping one copies
// and never allocates.
type badSlot struct {
	start                             int64
	status                            uint32
	flags                             als.ResponseFlags
	duration, slowerThan              time.Duration
	traceID                           [16]byte
	hasTrace, sampled, unavailable    bool
	nMethod, nPath, nUpstream, nReqID uint8
	method                            [maxMethod]byte
	path                              [maxPath]byte
	upstream                          [maxUpstream]byte
	reqID                             [maxRequestID]byte
}

// Apply takes the objectives of e's routes. It never fails.
func (l *BadRequestLog) Apply(e *model.Edge) error {
	l.swap.Lock()
	defer l.swap.Unlock()
	old := l.tbl.Load().routes
	next := badTable{routes: map[string]*badRoute{}, fastest: math.MaxInt64}
	if e != nil {
		for i := range e.Routes {
			r := &e.Routes[i]
			avail, ths := objectivesOf(r)
			if !avail && len(ths) == 0 {
				continue
			}
			br := old[r.Name]
			if br == nil || br.avail != avail || !slices.Equal(br.thresholds, ths) {
				// A new verdict rule: what was kept was judged by the old one; start afresh.
				br = &badRoute{avail: avail, thresholds: ths, slots: make([]badSlot, l.perRoute)}
			}
			next.routes[r.Name] = br
			if len(ths) > 0 {
				next.fastest = min(next.fastest, ths[0])
			}
		}
	}
	if e != nil {
		next.model, next.byPos = e, make([]*badRoute, len(e.Routes))
		for i := range e.Routes {
			next.byPos[i] = next.routes[e.Routes[i].Name]
		}
	}
	l.tbl.Store(&next)
	return nil
}

// objectivesOf returns whether r has an availability objective and its latency thresholds.
func objectivesOf(r *model.Route) (avail bool, thresholds []time.Duration) {
	if r.SLO == nil {
		return false, nil
	}
	for _, o := range r.SLO.Objectives {
		switch o.Indicator {
		case model.Availability:
			avail = true
		case model.Latency:
			thresholds = append(thresholds, o.Threshold)
		}
	}
	slices.Sort(thresholds)
	return avail, slices.Compact(thresholds)
}

// ConsumeRecords keeps the records of the batch that broke an objective of their route.
func (l *BadRequestLog) ConsumeRecords(batch []als.Record) {
	tbl := l.tbl.Load()
	for i := range batch {
		r := &batch[i]
		if slo.AvailabilityGood(r.Status, r.Flags) && slo.LatencyGood(r.Duration, tbl.fastest) {
			continue // good by every route's objectives: no need to find its route
		}
		br := tbl.routeOf(r)
		if br == nil {
			continue
		}
		unavailable := br.avail && !slo.AvailabilityGood(r.Status, r.Flags)
		var slower time.Duration
		for _, t := range br.thresholds {
			if !slo.LatencyGood(r.Duration, t) {
				slower = t
			}
		}
		if unavailable || slower > 0 {
			br.keep(r, unavailable, slower)
		}
	}
}

func (br *badRoute) keep(r *als.Record, unavailable bool, slower time.Duration) {
	br.mu.Lock()
	defer br.mu.Unlock()
	s := &br.slots[br.next]
	br.next = (br.next + 1) % len(br.slots)
	br.count = min(br.count+1, len(br.slots))
	s.start, s.status, s.flags, s.duration = r.Start.UnixNano(), r.Status, r.Flags, r.Duration
	s.traceID, _ = r.Trace()
	s.hasTrace, s.sampled = r.HasTrace, r.Sampled
	s.unavailable, s.slowerThan = unavailable, slower
	path := r.Path
	if q := bytes.IndexByte(path, '?'); q >= 0 {
		path = path[:q]
	}
	s.nMethod = uint8(copy(s.method[:], r.Method))
	s.nPath = uint8(copy(s.path[:], path))
	s.nUpstream = uint8(r.UpstreamHost.Copy(s.upstream[:]))
	s.nReqID = uint8(copy(s.reqID[:], r.RequestID))
}

// RecentBad returns up to limit of the route's most recent bad requests, newest first.
func (l *BadRequestLog) RecentBad(route string, limit int) []BadRequest {
	br := l.tbl.Load().routes[route]
	if br == nil || limit <= 0 {
		return nil
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	n := min(limit, br.count)
	out := make([]BadRequest, 0, n)
	for i := range n {
		s := &br.slots[(br.next-1-i+2*len(br.slots))%len(br.slots)]
		out = append(out, s.request(route))
	}
	return out
}

func (s *badSlot) request(route string) BadRequest {
	b := BadRequest{
		Route: route, Time: time.Unix(0, s.start), Status: s.status, Flags: s.flags,
		Duration: s.duration, Sampled: s.sampled, Unavailable: s.unavailable, SlowerThan: s.slowerThan,
		Method: string(s.method[:s.nMethod]), Path: string(s.path[:s.nPath]),
		Upstream: string(s.upstream[:s.nUpstream]), RequestID: string(s.reqID[:s.nReqID]),
	}
	if s.hasTrace {
		b.TraceID = hex.EncodeToString(s.traceID[:])
	}
	return b
}
