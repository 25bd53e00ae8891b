// Package slo is the SLO side of edgetel: the sink's SLI accounting of access-log records
// (good and total events per route objective, duration histograms with trace exemplars,
// in-process burn rates and error budgets) and its Prometheus exposition.
package slo

import (
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// Accountant counts access-log records against the SLOs of the model in force. It is an
// als.Consumer and a prometheus.Collector.
//
// A record is keyed by its route_name; one that is empty or names a route the model does not
// have counts under model.UnmatchedRoute, so label values only ever come from the model.
// Counting allocates nothing and keeps nothing of the record: per route there are atomic
// counters, and each batch takes a read lock once. ConsumeRecords, SetModel, Collect and
// Status are safe to call concurrently.
type Accountant struct {
	now func() time.Time

	// mu is read-locked by a batch and write-locked to swap the model or to copy the
	// counters: a swap loses no record in flight and a scrape sees whole records (the
	// histogram's count and buckets agree, good never exceeds total).
	mu  sync.RWMutex
	tbl *table
	// swap serialises SetModel, which builds the new table outside mu.
	swap sync.Mutex
	// unknown counts records whose route_name the model does not have: Envoy and the sink
	// disagreeing on the policies, e.g. during a rollout.
	unknown atomic.Uint64
}

var _ als.Consumer = (*Accountant)(nil)

// NewAccountant returns an accountant for the model m (nil for none yet: everything counts as
// unmatched). now is its clock, time.Now if nil; tests inject a fake one.
func NewAccountant(m *model.Edge, now func() time.Time) *Accountant {
	if now == nil {
		now = time.Now
	}
	a := &Accountant{now: now}
	a.tbl, _ = buildTable(m, nil, now())
	return a
}

// SetModel makes m the model in force. A route still in m keeps its counts; if its thresholds
// or SLO window changed, the counts move into the new layout (see carryFrom). A route no
// longer in m is forgotten and its series disappear; a new one starts at zero.
func (a *Accountant) SetModel(m *model.Edge) {
	a.swap.Lock()
	defer a.swap.Unlock()
	tbl, moves := buildTable(m, a.tbl, a.now()) // a.tbl changes only under swap
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, mv := range moves {
		mv.to.carryFrom(mv.from)
	}
	a.tbl = tbl
}

// ConsumeRecords counts a batch. It reads the clock once: every record of the batch counts
// at the time the sink received it, as a scraped counter would.
func (a *Accountant) ConsumeRecords(batch []als.Record) {
	if len(batch) == 0 {
		return
	}
	now := a.now().UnixNano()
	slot0 := now / fixedTiers[0].res
	ts := talliesPool.Get().(*tallies)
	a.mu.RLock()
	t := a.tbl
	for i := range batch {
		r := &batch[i]
		ts.of(t.lookup(r, &a.unknown)).observe(r, now)
	}
	ts.flush(now, slot0)
	a.mu.RUnlock()
	talliesPool.Put(ts)
}

// table is the accounting state for one model.
type table struct {
	model     *model.Edge
	byPos     []*routeAcct // by position in model.Routes; nil for a route left out
	byName    map[string]*route
	unmatched *route
	routes    []*route // sorted by name, unmatched last
}

// route is a route of the model in force and its state. The state may outlive the route
// entry: it carries over to the next model's entry of the same name.
type route struct {
	name       string
	window     time.Duration
	objectives []objective
	acct       *routeAcct
}

// objective is a model objective with where its counts are.
type objective struct {
	model.Objective
	col int // bad-count column in the route's rings
	le  int // classic bucket whose bound is the threshold (latency objectives)
}

// lookup returns the state of r's route, and its position in this table's model: by the
// position the decoder resolved when it resolved it in this model, by name otherwise
// (position -1).
func (t *table) lookup(r *als.Record, unknown *atomic.Uint64) (*routeAcct, int) {
	if pos, ok := r.RouteIn(t.model); ok && pos < len(t.byPos) {
		if acct := t.byPos[pos]; acct != nil {
			return acct, pos
		}
	}
	name := r.RouteName
	if len(name) == 0 {
		return t.unmatched.acct, -1
	}
	if r, ok := t.byName[string(name)]; ok { // no allocation: the compiler elides the copy
		return r.acct, -1
	}
	unknown.Add(1)
	return t.unmatched.acct, -1
}

// move is a route whose layout changed: its counts go from one state to the other.
type move struct{ from, to *routeAcct }

// buildTable builds the table of m, reusing the state of old's routes whose layout is the
// same and listing those that need their counts moved.
func buildTable(m *model.Edge, old *table, now time.Time) (*table, []move) {
	t := &table{model: m, byName: map[string]*route{}}
	var moves []move
	add := func(name string, mr *model.Route) *route {
		spec := specOf(mr)
		var prev *routeAcct
		if old != nil {
			if o := old.byName[name]; o != nil {
				prev = o.acct
			} else if name == model.UnmatchedRoute {
				prev = old.unmatched.acct
			}
		}
		acct := prev
		if prev == nil || !prev.spec.equal(&spec) {
			acct = newRouteAcct(spec, now)
			if prev != nil {
				moves = append(moves, move{from: prev, to: acct})
			}
		}
		r := &route{name: name, window: spec.window, acct: acct}
		r.objectives = objectivesOf(mr, &spec)
		return r
	}
	if m != nil {
		for i := range m.Routes {
			mr := &m.Routes[i]
			// A name that cannot be a label value, or a duplicate, would make every scrape
			// fail; the model validates names, this keeps the sink up if it did not.
			if _, dup := t.byName[mr.Name]; dup || !utf8.ValidString(mr.Name) ||
				mr.Name == "" || mr.Name == model.UnmatchedRoute {
				continue
			}
			r := add(mr.Name, mr)
			t.byName[r.name] = r
			t.routes = append(t.routes, r)
		}
	}
	if m != nil {
		t.byPos = make([]*routeAcct, len(m.Routes))
		for i := range m.Routes {
			if r := t.byName[m.Routes[i].Name]; r != nil {
				t.byPos[i] = r.acct
			}
		}
	}
	sortRoutes(t.routes)
	t.unmatched = add(model.UnmatchedRoute, nil)
	t.routes = append(t.routes, t.unmatched)
	return t, moves
}

// objectivesOf lists a route's objectives with their columns, skipping indicators this
// package does not know and names that repeat or cannot be label values.
func objectivesOf(mr *model.Route, spec *routeSpec) []objective {
	if mr == nil || mr.SLO == nil {
		return nil
	}
	var out []objective
	seen := map[string]bool{}
	for _, o := range mr.SLO.Objectives {
		col, le, ok := spec.objectiveColumn(&o)
		if !ok || seen[o.Name] || !utf8.ValidString(o.Name) {
			continue
		}
		seen[o.Name] = true
		out = append(out, objective{Objective: o, col: col, le: le})
	}
	return out
}
