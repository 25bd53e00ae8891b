package slo

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// t0 is aligned to every tier (a whole day since the epoch), so windows read at t0 plus
// whole minutes cut exactly at slot boundaries.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// observe counts one record into ra alone, as a batch of one does.
func observe(ra *routeAcct, r *als.Record, now int64) {
	var ts tallies
	ts.of(ra, -1).observe(r, now)
	ts.flush(now, now/fixedTiers[0].res)
}

// observeDuration counts one duration into h alone, as a tally of one record does.
func observeDuration(h *histogram, d int64) {
	h.counts[h.observeNative(d)].Add(1)
	h.sumUS.Add(micros(d))
}

// fakeClock is a settable clock, safe for concurrent readers.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.set(t)
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

var (
	availability999 = model.Objective{Name: "availability", Indicator: model.Availability, Target: 0.999}
	latency99       = model.Objective{Name: "latency", Indicator: model.Latency, Target: 0.99,
		Threshold: 300 * time.Millisecond}
)

func sloRoute(name string, window time.Duration, objs ...model.Objective) model.Route {
	ns, _, _ := strings.Cut(name, "/")
	return model.Route{Name: name, Namespace: ns, SLO: &model.SLO{Window: window, Objectives: objs}}
}

func edge(routes ...model.Route) *model.Edge {
	slices.SortFunc(routes, func(a, b model.Route) int { return strings.Compare(a.Name, b.Name) })
	return &model.Edge{Routes: routes}
}

func rec(route string, status uint32, flags als.ResponseFlags, d time.Duration) als.Record {
	return als.Record{RouteName: []byte(route), Status: status, Flags: flags, Duration: d}
}

// traced returns r with a trace ID.
func traced(r als.Record, id byte, sampled bool) als.Record {
	var trace [16]byte
	for i := range trace {
		trace[i] = id + byte(i)
	}
	r.SetTrace(trace, [8]byte{1}, sampled)
	return r
}

// routeStatus returns the status of one route, failing the test if it is absent.
func routeStatus(t *testing.T, a *Accountant, name string) RouteStatus {
	t.Helper()
	for _, s := range a.Status() {
		if s.Route == name {
			return s
		}
	}
	t.Fatalf("no route %q in status", name)
	return RouteStatus{}
}

func objectiveStatus(t *testing.T, rs RouteStatus, name string) ObjectiveStatus {
	t.Helper()
	for _, o := range rs.Objectives {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("route %s has no objective %q", rs.Route, name)
	return ObjectiveStatus{}
}
