package xds

import (
	"cmp"
	"hash/fnv"
	"net"
	"slices"
	"strconv"

	"github.com/edgetel/edgetel/model"
)

// Sink pinning (DESIGN.md "Scale-out"): one sink replica must hold all three telemetry
// streams of an Envoy so that the join of its access logs and spans stays local. Each node
// is therefore given one sink endpoint, chosen by rendezvous (highest random weight)
// hashing: every endpoint gets a weight hash(node, endpoint) and the node goes to the
// heaviest. A node's choice depends only on its own weights, so
//   - removing endpoint A moves only the nodes that were on A (each to its second heaviest);
//   - adding endpoint D moves only the nodes for which D is now the heaviest, about 1/n of
//     them with n endpoints after the change, and every one of them to D.
// No state is kept: every replica of edgetel xds computes the same pin from the same
// endpoints, and a restart pins every node where it was.

// Pin returns the endpoint that node is pinned to among eps, and false when eps is empty.
// The order of eps does not matter.
func Pin(node string, eps []model.Endpoint) (model.Endpoint, bool) {
	var best model.Endpoint
	var bestWeight uint64
	var bestKey string
	for i, ep := range eps {
		key := endpointKey(ep)
		w := pinWeight(node, key)
		// Ties (and duplicates of one address) go to the smaller key, so that the pin does
		// not depend on the order of eps.
		if i == 0 || w > bestWeight || (w == bestWeight && key < bestKey) {
			best, bestWeight, bestKey = ep, w, key
		}
	}
	return best, len(eps) > 0
}

// endpointKey is what identifies an endpoint for pinning: its address. The zone is left
// out so that a relabelled zone does not move nodes.
func endpointKey(ep model.Endpoint) string {
	return net.JoinHostPort(ep.Address, strconv.FormatUint(uint64(ep.Port), 10))
}

// pinWeight is the rendezvous weight of an endpoint for a node. It must be the same in
// every process and release (no seeded hash), so that replicas and restarts agree.
// FNV-1a alone mixes the last bytes of similar inputs poorly, so it is followed by the
// SplitMix64 finalizer, which spreads every input bit over the whole word.
func pinWeight(node, endpoint string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0}) // no node/endpoint pair can be read as another
	h.Write([]byte(endpoint))
	z := h.Sum64()
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// sortEndpoints returns eps sorted by address, port and zone, without duplicates, so that
// equal endpoint sets build equal assignments.
func sortEndpoints(eps []model.Endpoint) []model.Endpoint {
	out := slices.Clone(eps)
	slices.SortFunc(out, func(a, b model.Endpoint) int {
		return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Zone, b.Zone))
	})
	return slices.Compact(out)
}
