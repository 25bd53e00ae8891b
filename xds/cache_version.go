package xds

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
)

// Versions are hashes of content, so that the same resources always get the same version —
// no push when nothing changed, and every replica of edgetel xds agrees — and any change
// gets a new one. The content is the deterministic encoding; an Any counts as the bytes it
// was packed with, so Anys must be packed deterministically, as the translator's are
// (mustAny): a map packed in random order would otherwise change the version.

// digest is the hash of one message.
type digest = [sha256.Size]byte

// hasher versions resources. It remembers the digest of every resource and route it hashed,
// by pointer, for one more publish: a Translator hands over the very messages it reused, so
// a one-route change at 10,000 routes hashes one route, not all of them. That is sound
// because published messages are never modified (Publish's contract).
type hasher struct {
	mu   sync.Mutex
	gen  uint64
	seen map[proto.Message]memoDigest
}

type memoDigest struct {
	sum digest
	gen uint64
}

func newHasher() *hasher { return &hasher{seen: map[proto.Message]memoDigest{}} }

// next starts a publish: what the previous publish did not use is forgotten.
func (h *hasher) next() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for m, d := range h.seen {
		if d.gen < h.gen {
			delete(h.seen, m)
		}
	}
	h.gen++
}

// contentVersion is the version of a set of resources of one type, in any order.
func contentVersion[T proto.Message](h *hasher, msgs []T) (string, error) {
	sorted := slices.Clone(msgs)
	slices.SortFunc(sorted, func(a, b T) int { return cmp.Compare(cachev3.GetResourceName(a), cachev3.GetResourceName(b)) })
	all := sha256.New()
	for _, m := range sorted {
		d, err := h.digest(m)
		if err != nil {
			return "", fmt.Errorf("hashing %s %q: %w", m.ProtoReflect().Descriptor().Name(), cachev3.GetResourceName(m), err)
		}
		all.Write(d[:])
	}
	return hex.EncodeToString(all.Sum(nil)[:8]), nil
}

func (h *hasher) digest(m proto.Message) (digest, error) {
	if sum, ok := h.recall(m); ok {
		return sum, nil
	}
	var sum digest
	var err error
	if rc, ok := m.(*routev3.RouteConfiguration); ok {
		sum, err = h.routeConfigDigest(rc)
	} else {
		sum, err = messageDigest(m)
	}
	if err == nil {
		h.remember(m, sum)
	}
	return sum, err
}

// recall returns the digest of m if it was hashed before, and keeps it for one more publish.
func (h *hasher) recall(m proto.Message) (digest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.seen[m]
	if ok {
		h.seen[m] = memoDigest{sum: d.sum, gen: h.gen}
	}
	return d.sum, ok
}

func (h *hasher) remember(m proto.Message, sum digest) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen[m] = memoDigest{sum: sum, gen: h.gen}
}

// routeConfigDigest hashes a route configuration level by level, so that the routes it
// shares with the previous one are not encoded again.
func (h *hasher) routeConfigDigest(rc *routev3.RouteConfiguration) (digest, error) {
	s := sha256.New()
	if err := writeMessage(s, without(rc, "virtual_hosts")); err != nil {
		return digest{}, err
	}
	for _, vh := range rc.GetVirtualHosts() {
		if err := writeMessage(s, without(vh, "routes")); err != nil {
			return digest{}, err
		}
		s.Write(binary.BigEndian.AppendUint64(nil, uint64(len(vh.GetRoutes()))))
		for _, r := range vh.GetRoutes() {
			d, err := h.digest(r)
			if err != nil {
				return digest{}, fmt.Errorf("route %q: %w", r.GetName(), err)
			}
			s.Write(d[:])
		}
	}
	return digest(s.Sum(nil)), nil
}

func messageDigest(m proto.Message) (digest, error) {
	s := sha256.New()
	err := writeMessage(s, m)
	return digest(s.Sum(nil)), err
}

// writeMessage writes m's deterministic encoding, length first so that no two sequences of
// messages write the same bytes.
func writeMessage(h hash.Hash, m proto.Message) error {
	b, err := deterministic.Marshal(m)
	if err != nil {
		return err
	}
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
	h.Write(b)
	return nil
}
