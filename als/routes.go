package als

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"

	"github.com/edgetel/edgetel/model"
)

// RouteIndex finds a route of a model by the name Envoy logs for it (route_name), so that
// a record's route is looked up once, by its receiver, for every consumer: a consumer built
// from the same model takes its state for the route by position (Record.RouteIn) instead
// of by name. At the maximum access-log rate the consumers' lookups by name were ~7% of the
// sink's CPU; with thousands of routes each is a hash of the name and a cache miss.
//
// It is an open-addressing table (linear probing, load at most one half) rather than a Go
// map: the names Envoy logs are short, and a name of up to 16 bytes is hashed from two
// words of it, where a map either hashes the whole string or, below nine entries, compares
// the name with one entry after another (~15 ns a record at five routes against ~5).
type RouteIndex struct {
	model *model.Edge
	slots []routeSlot
	mask  uint64
	seed  maphash.Seed
}

type routeSlot struct {
	name string
	pos  int32 // position in model.Routes plus one; 0 for an empty slot
}

// NewRouteIndex returns the index of m's routes, nil for a nil m. It is read-only: one
// index serves every receiver, concurrently.
func NewRouteIndex(m *model.Edge) *RouteIndex {
	if m == nil {
		return nil
	}
	n := 1 << bits.Len(uint(2*len(m.Routes))) // a power of two, more than twice the routes
	x := &RouteIndex{model: m, slots: make([]routeSlot, n), mask: uint64(n - 1), seed: maphash.MakeSeed()}
	for i, r := range m.Routes {
		j := x.hash([]byte(r.Name)) & x.mask
		for x.slots[j].pos != 0 && x.slots[j].name != r.Name {
			j = (j + 1) & x.mask
		}
		if x.slots[j].pos == 0 { // the model's names are unique; a repeat keeps the first
			x.slots[j] = routeSlot{name: r.Name, pos: int32(i + 1)}
		}
	}
	return x
}

// hash mixes the first and last eight bytes of a name of 8 to 16 bytes (all of them), the
// bytes of a shorter one, and a longer one whole with maphash. Route names are
// namespace/name: in a longer one the bytes that tell two apart may lie in the middle.
func (x *RouteIndex) hash(name []byte) uint64 {
	var h uint64
	switch n := len(name); {
	case n > 16:
		return maphash.Bytes(x.seed, name)
	case n >= 8:
		h = binary.LittleEndian.Uint64(name) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(name[n-8:]), 29)
	default:
		for _, c := range name {
			h = h<<8 | uint64(c)
		}
	}
	hi, lo := bits.Mul64(h^uint64(len(name))<<56^0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9)
	return hi ^ lo
}

// find returns the position plus one of the route called name, 0 if there is none.
func (x *RouteIndex) find(name []byte) int32 {
	for j := x.hash(name) & x.mask; ; j = (j + 1) & x.mask {
		s := &x.slots[j]
		if s.pos == 0 || s.name == string(name) {
			return s.pos
		}
	}
}

// Resolve sets rec's Model and Route.
func (x *RouteIndex) Resolve(rec *Record) {
	rec.Model, rec.Route = x.model, 0
	if len(rec.RouteName) > 0 {
		rec.Route = x.find(rec.RouteName)
	}
}

// RouteIn returns the position in m.Routes of r's route when r was resolved against m and
// names one of its routes. When ok is false the consumer looks the route up by RouteName:
// r came from a decoder without a model, or with another one than the consumer's (a model
// change overtook the record), or names no route of m.
func (r *Record) RouteIn(m *model.Edge) (pos int, ok bool) {
	if r.Route <= 0 || r.Model != m || m == nil {
		return 0, false
	}
	return int(r.Route - 1), true
}
