package join

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

func TestAPendingEntryIs96BytesWithoutPointers(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n != 96 {
		t.Errorf("an entry is %d bytes, want 96", n)
	}
}

// TestTheTableAgreesWithAMapAndAList runs random inserts and removals on a small table
// at full load against a map and a slice in insertion order, checking every lookup, the
// age order and the counts after each operation.
func TestTheTableAgreesWithAMapAndAList(t *testing.T) {
	const capacity = 48 // 128 slots: probe runs form and break up often
	rng := rand.New(rand.NewPCG(1, 2))
	tbl := newTable(capacity)
	var order []RequestID // oldest first
	keys := make([]RequestID, 200)
	for i := range keys {
		keys[i] = RequestID{byte(i), byte(i >> 8), 7}
	}
	for op := range 20000 {
		k := keys[rng.IntN(len(keys))]
		idx, found := tbl.find(&k, tbl.hash(&k))
		if at := slices.Index(order, k); found != (at >= 0) {
			t.Fatalf("op %d: find(%x) = %v, the model says %v", op, k[:2], found, at >= 0)
		}
		switch {
		case found:
			if tbl.entries[idx].key != k {
				t.Fatalf("op %d: find returned the entry of %x for %x", op, tbl.entries[idx].key[:2], k[:2])
			}
			tbl.remove(idx)
			order = slices.DeleteFunc(order, func(o RequestID) bool { return o == k })
		case tbl.full():
			old, _ := tbl.oldest()
			if tbl.entries[old].key != order[0] {
				t.Fatalf("op %d: the oldest entry is %x, want %x", op, tbl.entries[old].key[:2], order[0][:2])
			}
			tbl.remove(old)
			order = order[1:]
		default:
			tbl.insert(&entry{key: k, meta: meta(rng.IntN(2)) * metaSpan}, tbl.hash(&k))
			order = append(order, k)
		}
		checkTable(t, op, tbl, order)
	}
}

func checkTable(t *testing.T, op int, tbl *table, order []RequestID) {
	t.Helper()
	var walked []RequestID
	sides := [numSides]int{}
	for i := tbl.head; i != 0; i = tbl.entries[i-1].next {
		walked = append(walked, tbl.entries[i-1].key)
		sides[tbl.entries[i-1].meta.side()]++
	}
	if !slices.Equal(walked, order) {
		t.Fatalf("op %d: the age list holds %d entries out of order", op, len(walked))
	}
	if tbl.n != len(order) || sides != tbl.bySide {
		t.Fatalf("op %d: n %d by side %v, want %d by side %v", op, tbl.n, tbl.bySide, len(order), sides)
	}
	for _, k := range order {
		if _, ok := tbl.find(&k, tbl.hash(&k)); !ok {
			t.Fatalf("op %d: %x is pending but not found", op, k[:2])
		}
	}
}

func TestParsingAUUIDAcceptsBothCasesAndRefusesTheRest(t *testing.T) {
	want := RequestID{0x6f, 0x1c, 0x2e, 0x4a, 0x1b, 0x2c, 0x9d, 0x3e, 0x8f, 0x4a, 0, 0, 0, 0, 0, 0x01}
	for _, s := range []string{"6f1c2e4a-1b2c-9d3e-8f4a-000000000001", "6F1C2E4A-1B2C-9D3E-8F4A-000000000001"} {
		if got, ok := parseUUID(s); !ok || got != want {
			t.Errorf("parseUUID(%q) = %x, %v", s, got, ok)
		}
		if got := want.String(); got != "6f1c2e4a-1b2c-9d3e-8f4a-000000000001" {
			t.Errorf("String() = %s", got)
		}
	}
	for _, s := range []string{"", "6f1c2e4a1b2c9d3e8f4a000000000001", "6f1c2e4a-1b2c-9d3e-8f4a-00000000000g",
		"6f1c2e4a-1b2c-9d3e-8f4a_000000000001", "6f1c2e4a-1b2c-9d3e-8f4a-0000000000011"} {
		if _, ok := parseUUID(s); ok {
			t.Errorf("parseUUID(%q) accepted it", s)
		}
	}
	k := newKeyer()
	a, hashedA := k.ofString("req-42")
	b, hashedB := k.ofBytes([]byte("req-42"))
	if !hashedA || !hashedB || a != b {
		t.Errorf("a non-UUID ID keys differently as string and bytes: %x, %x", a, b)
	}
}
