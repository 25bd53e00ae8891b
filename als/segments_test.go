package als

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cut splits wire at up to four places that cuts picks (empty pieces included).
func cut(wire []byte, cuts uint64) [][]byte {
	var at []int
	for i := range 4 {
		if c := uint16(cuts >> (16 * i)); c != 0 {
			at = append(at, int(c)%(len(wire)+1))
		}
	}
	slices.Sort(at)
	var segs [][]byte
	prev := 0
	for _, k := range at {
		segs = append(segs, wire[prev:k])
		prev = k
	}
	return append(segs, wire[prev:])
}

// sameDecoding fails t unless decoding segs with DecodeSegments gives what decoding wire,
// their concatenation, with Decode gives: error, records, counts and the stream's identity,
// over two messages in a row (the second carries the identity the first set).
func sameDecoding(t *testing.T, wire []byte, segs [][]byte, limits Limits) {
	t.Helper()
	whole, parts := NewDecoder(limits), NewDecoder(limits)
	var wb, pb Batch
	var scratch []byte
	for range 2 {
		werr := whole.Decode(wire, &wb)
		perr := parts.DecodeSegments(segs, &scratch, &pb)
		if fmt.Sprint(werr) != fmt.Sprint(perr) {
			t.Fatalf("errors differ: whole %v, in pieces %v", werr, perr)
		}
		if !sameValue(reflect.ValueOf(wb), reflect.ValueOf(pb)) {
			t.Fatalf("batches differ (-whole +pieces):\n%s",
				cmp.Diff(wb, pb, cmpopts.EquateEmpty(), renderHost))
		}
		wn, wc, wl := whole.Identity()
		pn, pc, pl := parts.Identity()
		if string(wn) != string(pn) || string(wc) != string(pc) || string(wl) != string(pl) {
			t.Fatalf("identities differ: whole %q %q %q, in pieces %q %q %q", wn, wc, wl, pn, pc, pl)
		}
	}
}

// sameValue is cmp.Equal with nil and empty byte slices alike, fast enough to run on
// every cut of a message (cmp reports the difference once one is found).
func sameValue(x, y reflect.Value) bool {
	switch {
	case x.Type() == reflect.TypeFor[time.Time]():
		return x.Interface().(time.Time).Equal(y.Interface().(time.Time))
	case x.Kind() == reflect.Slice && x.Type().Elem().Kind() == reflect.Uint8:
		return bytes.Equal(x.Bytes(), y.Bytes())
	case x.Kind() == reflect.Slice:
		if x.Len() != y.Len() {
			return false
		}
		for i := range x.Len() {
			if !sameValue(x.Index(i), y.Index(i)) {
				return false
			}
		}
		return true
	case x.Kind() == reflect.Struct:
		for i := range x.NumField() {
			if !sameValue(x.Field(i), y.Field(i)) {
				return false
			}
		}
		return true
	case x.Kind() == reflect.Array:
		for i := range x.Len() {
			if !sameValue(x.Index(i), y.Index(i)) {
				return false
			}
		}
		return true
	}
	switch x.Kind() {
	case reflect.Pointer:
		return x.Pointer() == y.Pointer()
	case reflect.Bool:
		return x.Bool() == y.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return x.Int() == y.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return x.Uint() == y.Uint()
	}
	panic("sameValue: add kind " + x.Kind().String())
}

// FuzzDecodeSegments holds DecodeSegments to Decode: any input, cut anywhere, decodes as
// the whole does. Run longer with go test -run x -fuzz FuzzDecodeSegments ./als/.
func FuzzDecodeSegments(f *testing.F) {
	for i, seed := range fuzzSeeds(f) {
		f.Add(seed, uint64(i+1)*0x9e3779b97f4a7c15)
	}
	f.Fuzz(func(t *testing.T, wire []byte, cuts uint64) {
		segs := cut(wire, cuts)
		sameDecoding(t, wire, segs, huge)
		sameDecoding(t, wire, segs, Limits{MaxEntries: 1, MaxValueBytes: 1})
	})
}

// envoyBatch is a message as Envoy flushes one at its default 16 KiB: the identifier (the
// stream's first message) and realistic entries.
func envoyBatch(t testing.TB) []byte {
	msg := httpMessage(identity("edge-1", "access"))
	logs := msg.GetHttpLogs()
	for i := 0; len(mustMarshal(t, msg)) < 16<<10; i++ {
		logs.LogEntry = append(logs.LogEntry, realisticEntry(i))
	}
	return mustMarshal(t, msg)
}

func TestAMessageCutAtAnyByteDecodesAsTheWhole(t *testing.T) {
	wire := envoyBatch(t)
	for k := range len(wire) + 1 {
		sameDecoding(t, wire, [][]byte{wire[:k], wire[k:]}, huge)
	}
	for _, c := range []uint64{0x0001_2000_3fff, 0x0003_0003_0002_0001, 0xffff_8000_4000_0001} {
		sameDecoding(t, wire, cut(wire, c), huge)
		sameDecoding(t, wire, cut(wire, c), Limits{MaxEntries: 3, MaxValueBytes: 8})
	}
}

func TestOnlyAnEntryAcrossPiecesIsCopied(t *testing.T) {
	wire := envoyBatch(t)
	k := 16384 - 5 // where a gRPC message's first HTTP/2 frame ends
	var b Batch
	var scratch []byte
	if err := NewDecoder(huge).DecodeSegments([][]byte{wire[:k], wire[k:]}, &scratch, &b); err != nil {
		t.Fatal(err)
	}
	if len(scratch) == 0 || len(scratch) > 1024 {
		t.Errorf("copied %d bytes into scratch; want one entry's, a few hundred", len(scratch))
	}
	across := 0
	for i := range b.Records {
		if id := b.Records[i].RequestID; inside(id, scratch) {
			across++
		} else if !inside(id, wire[:k]) && !inside(id, wire[k:]) {
			t.Errorf("record %d views memory that is neither a piece nor scratch", i)
		}
	}
	if across != 1 {
		t.Errorf("%d records view scratch; want 1", across)
	}
}

// inside reports whether v is a part of buf's memory.
func inside(v, buf []byte) bool {
	if len(v) == 0 || len(buf) == 0 {
		return false
	}
	p, start := uintptr(unsafe.Pointer(&v[0])), uintptr(unsafe.Pointer(&buf[0]))
	return p >= start && p+uintptr(len(v)) <= start+uintptr(len(buf))
}

func TestDecodingInPiecesDoesNotAllocate(t *testing.T) {
	wire := envoyBatch(t)
	segs := [][]byte{wire[:7000], wire[7000:12000], wire[12000:]}
	d := NewDecoder(DefaultLimits())
	var b Batch
	var scratch []byte
	if err := d.DecodeSegments(segs, &scratch, &b); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() { _ = d.DecodeSegments(segs, &scratch, &b) }); n > 0 {
		t.Errorf("DecodeSegments allocates %v times a message; want 0", n)
	}
}

// The head of a field may straddle pieces too: a tag, a length, or both.
func TestAFieldHeadAcrossPiecesIsRead(t *testing.T) {
	entry := mustMarshal(t, realisticEntry(0))
	wire := httpLogsWire(entry, entry)
	// The second entry's head: its tag, then a length of two bytes.
	second := len(wire) - len(entry) - 1 - binary.PutUvarint(make([]byte, 10), uint64(len(entry)))
	for _, k := range []int{1, 2, 3, second, second + 1, second + 2} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			sameDecoding(t, wire, [][]byte{wire[:k], wire[k:]}, huge)
		})
	}
}
