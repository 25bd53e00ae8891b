package ui

import (
	"slices"
	"sync"
	"time"

	"github.com/edgetel/edgetel/slo"
)

// history is what the charts draw: a fixed-size ring of samples of Status per route. The
// accountant keeps windows, not a past, so the page keeps its own.
//
// Memory is fixed per route once it is seen: n samples of 24 + 24 × objectives bytes (the
// time, requests and 5xx counts; each objective's events, good, and 5m and 1h burn rates).
// With the defaults (3h at 10s, n = 1,080) a route with two objectives holds 77,760 bytes,
// one with three 103,680. A route that leaves the model is dropped at the next sample; one
// whose objectives change starts a new series, since the old numbers meant something else.
type history struct {
	n int

	mu     sync.Mutex
	routes map[string]*series
}

type series struct {
	objectives []string // names, in order: the layout of obj
	next, size int
	at         []int64 // Unix ns
	requests   []uint64
	err5xx     []uint64
	obj        []objPoint // n × len(objectives)
}

type objPoint struct {
	events, good   uint64
	burn5m, burn1h float32
}

func newHistory(n int) *history {
	return &history{n: max(n, 2), routes: map[string]*series{}}
}

// record appends a sample of every route at now.
func (h *history) record(now time.Time, st []slo.RouteStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := make(map[string]bool, len(st))
	for i := range st {
		rs := &st[i]
		seen[rs.Route] = true
		names := objectiveNames(rs)
		s := h.routes[rs.Route]
		if s == nil || !slices.Equal(s.objectives, names) {
			s = newSeries(h.n, names)
			h.routes[rs.Route] = s
		}
		s.add(now.UnixNano(), rs)
	}
	for name := range h.routes {
		if !seen[name] {
			delete(h.routes, name)
		}
	}
}

func objectiveNames(rs *slo.RouteStatus) []string {
	out := make([]string, len(rs.Objectives))
	for i, o := range rs.Objectives {
		out[i] = o.Name
	}
	return out
}

func newSeries(n int, objectives []string) *series {
	return &series{
		objectives: objectives,
		at:         make([]int64, n),
		requests:   make([]uint64, n),
		err5xx:     make([]uint64, n),
		obj:        make([]objPoint, n*len(objectives)),
	}
}

// class5xx is the index of "5xx" in slo.CodeClasses.
var class5xx = slices.Index(slo.CodeClasses[:], "5xx")

func (s *series) add(at int64, rs *slo.RouteStatus) {
	i, k := s.next, len(s.objectives)
	s.next = (s.next + 1) % len(s.at)
	s.size = min(s.size+1, len(s.at))
	var total uint64
	for _, c := range rs.Requests {
		total += c
	}
	s.at[i], s.requests[i], s.err5xx[i] = at, total, rs.Requests[class5xx]
	for j, o := range rs.Objectives {
		b5, _ := burnOver(o, 5*time.Minute)
		b1, _ := burnOver(o, time.Hour)
		s.obj[i*k+j] = objPoint{events: o.Events, good: o.Good, burn5m: float32(b5), burn1h: float32(b1)}
	}
}

// sample is one point of a route's series, for the charts.
type sample struct {
	at               int64
	requests, err5xx uint64
	obj              []objPoint
}

// series returns a copy of the route's samples from oldest to newest, and the names of its
// objectives; nil if the route has none.
func (h *history) series(route string) ([]sample, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.routes[route]
	if s == nil || s.size == 0 {
		return nil, nil
	}
	k := len(s.objectives)
	out := make([]sample, s.size)
	objs := make([]objPoint, s.size*k)
	first := (s.next - s.size + len(s.at)) % len(s.at)
	for n := range s.size {
		i := (first + n) % len(s.at)
		o := objs[n*k : (n+1)*k : (n+1)*k]
		copy(o, s.obj[i*k:(i+1)*k])
		out[n] = sample{at: s.at[i], requests: s.requests[i], err5xx: s.err5xx[i], obj: o}
	}
	return out, slices.Clone(s.objectives)
}
