package sim

import (
	"encoding/hex"
	"math/rand/v2"
)

// Envoy's UUID request-ID extension packs the trace decision into the UUID's version nibble
// (string index 14) when pack_trace_reason is on, its default: '9' for a sampled request,
// '4' (the plain version 4) for one that is not traced.
const (
	uuidTraceByte = 14
	uuidSampled   = '9'
	uuidNoTrace   = '4'
)

// newUUID returns a version 4 UUID string from rng, with the trace reason packed as Envoy
// packs it.
func newUUID(rng *rand.Rand, sampled bool) string {
	var b [16]byte
	putUint64(b[:8], rng.Uint64())
	putUint64(b[8:], rng.Uint64())
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	if sampled {
		s[uuidTraceByte] = uuidSampled
	} else {
		s[uuidTraceByte] = uuidNoTrace
	}
	return string(s[:])
}

// newTraceIDs returns a W3C trace ID and span ID from rng; neither is all zeros, which the
// W3C spec declares invalid.
func newTraceIDs(rng *rand.Rand) (trace [16]byte, span [8]byte) {
	for trace == ([16]byte{}) {
		putUint64(trace[:8], rng.Uint64())
		putUint64(trace[8:], rng.Uint64())
	}
	for span == ([8]byte{}) {
		putUint64(span[:], rng.Uint64())
	}
	return trace, span
}

// Traceparent formats a W3C traceparent header (version 00):
// "00-<32 hex trace id>-<16 hex span id>-<01 if sampled, else 00>".
func Traceparent(trace [16]byte, span [8]byte, sampled bool) string {
	var s [55]byte
	s[0], s[1], s[2] = '0', '0', '-'
	hex.Encode(s[3:35], trace[:])
	s[35] = '-'
	hex.Encode(s[36:52], span[:])
	s[52], s[53], s[54] = '-', '0', '0'
	if sampled {
		s[54] = '1'
	}
	return string(s[:])
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}
