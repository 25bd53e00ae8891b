package join

import (
	"encoding/hex"
	"hash/maphash"

	"github.com/edgetel/edgetel/internal/hexid"
)

// RequestID is a request ID as the join keys it: the 16 bytes of a UUID, which is what
// Envoy's UUID request-ID extension makes, or a 128-bit hash of an ID that is not one
// (an external ID Envoy was told to keep, or another extension's).
type RequestID [16]byte

// String formats the ID as a lower-case UUID. For a hashed ID it formats the hash.
func (id RequestID) String() string {
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], id[10:16])
	return string(s[:])
}

// traceStatus is what Envoy's UUID extension packs into the version nibble (text index
// 14) with pack_trace_reason, its default: whether the request was traced.
type traceStatus uint8

const (
	traceUnknown traceStatus = iota // not a UUID Envoy packed: a span may come
	traceNo                         // '4': not traced, no span will come
	traceYes                        // '9' sampled, 'a' forced, 'b' client-forced
)

func (id RequestID) traceStatus() traceStatus {
	switch id[6] >> 4 {
	case 0x4:
		return traceNo
	case 0x9, 0xa, 0xb:
		return traceYes
	}
	return traceUnknown
}

// keyer turns request IDs into keys. The hash of non-UUID IDs is seeded per process, so
// that IDs chosen by clients cannot be made to collide in the table.
type keyer struct {
	s1, s2 maphash.Seed
}

func newKeyer() keyer { return keyer{s1: maphash.MakeSeed(), s2: maphash.MakeSeed()} }

// ofBytes and ofString return the key of a request ID, hashed true when it is not a UUID.
func (k keyer) ofBytes(id []byte) (key RequestID, hashed bool) {
	if key, ok := parseUUID(id); ok {
		return key, false
	}
	return join128(maphash.Bytes(k.s1, id), maphash.Bytes(k.s2, id)), true
}

func (k keyer) ofString(id string) (key RequestID, hashed bool) {
	if key, ok := parseUUID(id); ok {
		return key, false
	}
	return join128(maphash.String(k.s1, id), maphash.String(k.s2, id)), true
}

func join128(h1, h2 uint64) (key RequestID) {
	for i := range 8 {
		key[i], key[8+i] = byte(h1>>(8*i)), byte(h2>>(8*i))
	}
	return key
}

// parseUUID parses the 36-character text form of a UUID, in either case. It is on the
// path of every record: a table lookup per digit and one test at the end, unrolled.
func parseUUID[T string | []byte](s T) (id RequestID, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	var bad byte
	d := func(a, b byte) byte {
		hi, lo := hexid.AnyCase[a], hexid.AnyCase[b]
		bad |= hi | lo
		return hi<<4 | lo
	}
	id[0], id[1], id[2], id[3] = d(s[0], s[1]), d(s[2], s[3]), d(s[4], s[5]), d(s[6], s[7])
	id[4], id[5], id[6], id[7] = d(s[9], s[10]), d(s[11], s[12]), d(s[14], s[15]), d(s[16], s[17])
	id[8], id[9] = d(s[19], s[20]), d(s[21], s[22])
	id[10], id[11], id[12] = d(s[24], s[25]), d(s[26], s[27]), d(s[28], s[29])
	id[13], id[14], id[15] = d(s[30], s[31]), d(s[32], s[33]), d(s[34], s[35])
	if bad > 0xf {
		return RequestID{}, false
	}
	return id, true
}
