package join

import (
	"slices"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

// maxRoutes bounds the route names the join interns (a pending entry holds a uint16).
const maxRoutes = 1 << 16

// routes maps route names to the small indexes pending entries hold, and indexes to the
// objectives of the model in force. Names are interned for good, so that an entry's
// index stays valid across model changes; they come only from models, so there are as
// many as the routes the models have named, as for the SLI accounting's labels.
type routes struct {
	names   []string // by index; 0 is model.UnmatchedRoute
	index   map[string]uint16
	inModel []bool              // by index: the route is in the model in force
	objs    [][]model.Objective // by index: its objectives in that model
	// last is the route lookup found last: records of a batch tend to share routes.
	last    string
	lastIdx uint16
	// model is the model in force, byPos the index of each of its routes by position (0
	// for one not interned): for records the receiver resolved in it (als.Record.RouteIn).
	model *model.Edge
	byPos []uint16
}

func newRoutes(m *model.Edge) *routes {
	rt := &routes{index: map[string]uint16{}}
	rt.intern(model.UnmatchedRoute)
	rt.set(m)
	return rt
}

func (rt *routes) intern(name string) (uint16, bool) {
	if i, ok := rt.index[name]; ok {
		return i, true
	}
	if len(rt.names) == maxRoutes {
		return 0, false
	}
	i := uint16(len(rt.names))
	rt.names = append(rt.names, name)
	rt.index[name] = i
	rt.inModel = append(rt.inModel, false)
	rt.objs = append(rt.objs, nil)
	return i, true
}

// set makes m the model in force.
func (rt *routes) set(m *model.Edge) {
	rt.last, rt.lastIdx = "", 0
	clear(rt.inModel)
	clear(rt.objs)
	rt.model, rt.byPos = m, nil
	if m == nil {
		return
	}
	rt.byPos = make([]uint16, len(m.Routes))
	for i := range m.Routes {
		r := &m.Routes[i]
		idx, ok := rt.intern(r.Name)
		if !ok || idx == 0 {
			continue
		}
		rt.byPos[i] = idx
		rt.inModel[idx] = true
		if r.SLO != nil {
			rt.objs[idx] = slices.Clone(r.SLO.Objectives)
		}
	}
}

// of returns the index of r's route: by position when the receiver resolved it in the
// model in force, else by name (see lookup).
func (rt *routes) of(r *als.Record) uint16 {
	if pos, ok := r.RouteIn(rt.model); ok && pos < len(rt.byPos) && rt.byPos[pos] != 0 {
		return rt.byPos[pos]
	}
	return rt.lookup(r.RouteName)
}

// lookup returns the index of a record's route_name: 0 (unmatched) for an empty name or
// one the model in force does not have, as the SLI accounting counts it.
func (rt *routes) lookup(name []byte) uint16 {
	if rt.lastIdx != 0 && string(name) == rt.last {
		return rt.lastIdx
	}
	if i, ok := rt.index[string(name)]; ok && rt.inModel[i] { // no allocation: see slo
		rt.last, rt.lastIdx = rt.names[i], i
		return i
	}
	return 0
}

func (rt *routes) name(i uint16) string { return rt.names[i] }

// verdict judges a request of route i against its objectives in the model in force.
func (rt *routes) verdict(i uint16, status uint32, flags als.ResponseFlags, d time.Duration) Verdict {
	objs := rt.objs[i]
	v := Verdict{Objectives: objs}
	for k := range min(len(objs), 64) {
		o := &objs[k]
		var good bool
		switch o.Indicator {
		case model.Availability:
			good = slo.AvailabilityGood(status, flags)
		case model.Latency:
			good = slo.LatencyGood(d, o.Threshold)
		default:
			good = true // an indicator the accounting does not know: it counts nothing
		}
		if !good {
			v.Broken |= 1 << k
		}
	}
	return v
}
