package join

import (
	"hash/maphash"
	"math/bits"
)

// entry is one pending record or span: 96 bytes, no pointers, so that a table of them
// is one allocation the garbage collector does not scan. Fields serve both sides:
//
//	field     record                span
//	start     start (Unix ns)       start (Unix ns)
//	end       duration (ns)         end (Unix ns)
//	x, y      bytes received, sent  parent span ID, unused
//	flags     response flags        unused
//	route     route index           unused
type entry struct {
	key     RequestID
	traceID [16]byte
	spanID  [8]byte
	start   int64
	end     int64
	x, y    uint64
	flags   uint64
	// prev and next link the pending entries oldest first, or the free ones; they hold
	// an index+1, 0 for none.
	prev, next uint32
	// expires is when the entry's window ends, in whole seconds since the table's epoch,
	// rounded up: the entry goes once the clock reaches it.
	expires uint32
	route   uint16
	meta    meta
}

// meta packs an entry's status (10 bits) and its flags.
type meta uint16

const (
	metaStatus   meta = 1<<10 - 1
	metaSpan     meta = 1 << 10 // the entry is a span; a record otherwise
	metaSampled  meta = 1 << 11
	metaHasTrace meta = 1 << 12
	metaHashedID meta = 1 << 13
)

func (m meta) side() Side {
	if m&metaSpan != 0 {
		return SideSpan
	}
	return SideLog
}

func (m meta) status() uint32 { return uint32(m & metaStatus) }

// withStatus returns m with status, capped at 1023: above 999 no status is valid HTTP,
// and the cap keeps it bad for availability.
func (m meta) withStatus(status uint32) meta {
	return m&^metaStatus | meta(min(status, uint32(metaStatus)))
}

// table is the join's pending entries: a slab of entries allocated once, a list of them
// oldest first (the next to expire or be evicted), and an open-addressing index by key
// (linear probing, load at most one half, deletion by backward shift: no tombstones).
// A slot keeps its entry's hash beside the entry's index: a probe reads the entry, a cache
// miss in a slab of megabytes, only when the hashes agree, and a deletion finds where the
// entries after it belong without reading them.
// It is not safe for concurrent use.
type table struct {
	entries []entry
	slots   []uint64 // hash<<32 | index+1 of the entry whose key hashes here; 0 when empty
	mask    uint32
	seed    maphash.Seed

	free       uint32 // first free entry, index+1
	head, tail uint32 // oldest and newest pending entry, index+1
	n          int
	bySide     [numSides]int
}

func newTable(capacity int) *table {
	slots := 1 << bits.Len(uint(2*capacity-1)) // a power of two, at least twice capacity
	t := &table{
		entries: make([]entry, capacity),
		slots:   make([]uint64, slots),
		mask:    uint32(slots - 1),
		seed:    maphash.MakeSeed(),
	}
	for i := range t.entries {
		t.entries[i].next = uint32(i + 2)
	}
	t.entries[capacity-1].next = 0
	t.free = 1
	return t
}

func (t *table) full() bool { return t.n == len(t.entries) }

// hash is k's hash; its low bits are k's home slot.
func (t *table) hash(k *RequestID) uint32 { return uint32(maphash.Comparable(t.seed, *k)) }

// find returns the index of the entry with key k, whose hash is h.
func (t *table) find(k *RequestID, h uint32) (uint32, bool) {
	for i := h & t.mask; t.slots[i] != 0; i = (i + 1) & t.mask {
		if s := t.slots[i]; uint32(s>>32) == h {
			if e := uint32(s) - 1; t.entries[e].key == *k {
				return e, true
			}
		}
	}
	return 0, false
}

// insert stores a copy of e, whose key's hash is h, as the newest entry. The table
// must not be full and must not hold e's key.
func (t *table) insert(e *entry, h uint32) {
	idx := t.free - 1
	slot := &t.entries[idx]
	t.free = slot.next
	*slot = *e
	slot.prev, slot.next = t.tail, 0
	if t.tail != 0 {
		t.entries[t.tail-1].next = idx + 1
	} else {
		t.head = idx + 1
	}
	t.tail = idx + 1
	i := h & t.mask
	for t.slots[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = uint64(h)<<32 | uint64(idx+1)
	t.n++
	t.bySide[e.meta.side()]++
}

// oldest returns the index of the oldest entry.
func (t *table) oldest() (uint32, bool) { return t.head - 1, t.head != 0 }

// remove frees entry idx; the caller has copied what it needs of it.
func (t *table) remove(idx uint32) {
	e := &t.entries[idx]
	t.unindex(idx)
	if e.prev != 0 {
		t.entries[e.prev-1].next = e.next
	} else {
		t.head = e.next
	}
	if e.next != 0 {
		t.entries[e.next-1].prev = e.prev
	} else {
		t.tail = e.prev
	}
	t.n--
	t.bySide[e.meta.side()]--
	*e = entry{next: t.free}
	t.free = idx + 1
}

// unindex deletes idx's slot and shifts back the entries after it in its probe run that
// may move, so that every run stays unbroken.
func (t *table) unindex(idx uint32) {
	i := t.hash(&t.entries[idx].key) & t.mask
	for uint32(t.slots[i]) != idx+1 {
		i = (i + 1) & t.mask
	}
	for j := (i + 1) & t.mask; t.slots[j] != 0; j = (j + 1) & t.mask {
		h := uint32(t.slots[j]>>32) & t.mask
		// The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
		if (j-h)&t.mask >= (j-i)&t.mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = 0
}
