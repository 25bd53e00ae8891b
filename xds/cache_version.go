package xds

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
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

// hasher versions resources. It remembers the digest of every resource, virtual host and
// route it hashed, by pointer, for one more publish: a Translator hands over the very
// messages it reused, so a one-route change at 10,000 routes hashes one route and its
// virtual host, not all of them. That is sound because published messages are never
// modified (Publish's contract).
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

// contentVersion is the version of a set of resources of one type, in any order. The
// resources not hashed before are hashed on every CPU: a thousand clusters at a first
// publish, the one that changed at the next.
func contentVersion[T proto.Message](h *hasher, msgs []T) (string, error) {
	sorted := slices.Clone(msgs)
	slices.SortFunc(sorted, func(a, b T) int { return cmp.Compare(cachev3.GetResourceName(a), cachev3.GetResourceName(b)) })
	sums := make([]digest, len(sorted))
	var todo []proto.Message
	var at []int
	for i, m := range sorted {
		var ok bool
		if sums[i], ok = h.recall(m); !ok {
			todo, at = append(todo, m), append(at, i)
		}
	}
	computed, err := h.computeAll(todo)
	if err != nil {
		return "", err
	}
	for j, i := range at {
		sums[i] = computed[j]
	}
	all := sha256.New()
	for _, d := range sums {
		all.Write(d[:])
	}
	return hex.EncodeToString(all.Sum(nil)[:8]), nil
}

// computeAll hashes ms on every CPU and remembers their digests.
func (h *hasher) computeAll(ms []proto.Message) ([]digest, error) {
	sums := make([]digest, len(ms))
	errs := make([]error, len(ms))
	forEach(len(ms), routeChunk, func(i int) {
		m := ms[i]
		if sums[i], errs[i] = h.compute(m); errs[i] != nil {
			errs[i] = fmt.Errorf("hashing %s %q: %w", m.ProtoReflect().Descriptor().Name(), cachev3.GetResourceName(m), errs[i])
		}
	})
	h.remember(ms, sums, errs)
	return sums, errors.Join(errs...)
}

func (h *hasher) digest(m proto.Message) (digest, error) {
	if sum, ok := h.recall(m); ok {
		return sum, nil
	}
	sum, err := h.compute(m)
	h.remember([]proto.Message{m}, []digest{sum}, []error{err})
	return sum, err
}

// compute hashes m, a route configuration or a virtual host level by level.
func (h *hasher) compute(m proto.Message) (digest, error) {
	switch m := m.(type) {
	case *routev3.RouteConfiguration:
		return h.routeConfigDigest(m)
	case *routev3.VirtualHost:
		return h.virtualHostDigest(m)
	}
	return messageDigest(m)
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

// remember keeps the digests of the messages hashed without error, under one lock: workers
// that took turns at the lock for each message would wait on each other, all the more on a
// busy machine.
func (h *hasher) remember(ms []proto.Message, sums []digest, errs []error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, m := range ms {
		if errs[i] == nil {
			h.seen[m] = memoDigest{sum: sums[i], gen: h.gen}
		}
	}
}

// routeConfigDigest hashes a route configuration level by level, so that the virtual hosts
// and routes it shares with the previous one (a Translator's are the same messages) are not
// encoded again.
func (h *hasher) routeConfigDigest(rc *routev3.RouteConfiguration) (digest, error) {
	if err := h.digestRoutes(rc); err != nil {
		return digest{}, err
	}
	s := sha256.New()
	if err := writeMessage(s, without(rc, "virtual_hosts")); err != nil {
		return digest{}, err
	}
	for _, vh := range rc.GetVirtualHosts() {
		d, err := h.digest(vh)
		if err != nil {
			return digest{}, fmt.Errorf("virtual host %q: %w", vh.GetName(), err)
		}
		s.Write(d[:])
	}
	return digest(s.Sum(nil)), nil
}

// virtualHostDigest hashes a virtual host by its own fields and the digests of its routes.
func (h *hasher) virtualHostDigest(vh *routev3.VirtualHost) (digest, error) {
	s := sha256.New()
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
	return digest(s.Sum(nil)), nil
}

// digestRoutes hashes, on every CPU, the routes not hashed before of the virtual hosts of
// rc not hashed before: all of them at the first publish, one after a one-route change. A
// route in several virtual hosts is hashed once.
func (h *hasher) digestRoutes(rc *routev3.RouteConfiguration) error {
	var todo []proto.Message
	seen := map[*routev3.Route]bool{}
	for _, vh := range rc.GetVirtualHosts() {
		if _, ok := h.recall(vh); ok {
			continue
		}
		for _, r := range vh.GetRoutes() {
			if _, ok := h.recall(r); !ok && !seen[r] {
				seen[r] = true
				todo = append(todo, r)
			}
		}
	}
	_, err := h.computeAll(todo)
	return err
}

// messageDigest is the hash of what writeMessage writes of m.
func messageDigest(m proto.Message) (digest, error) {
	bp := encodings.Get().(*[]byte)
	defer encodings.Put(bp)
	b, err := deterministic.MarshalAppend((*bp)[:8], m)
	if err != nil {
		return digest{}, err
	}
	binary.BigEndian.PutUint64(b, uint64(len(b)-8))
	*bp = b
	return sha256.Sum256(b), nil
}

// encodings are reused buffers for messageDigest, which runs for every message of a first
// publish: ten thousand routes.
var encodings = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

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
