package als

import (
	"encoding/binary"

	"github.com/edgetel/edgetel/internal/hexid"
)

// traceparentSize is a version-00 traceparent: 2 + 1 + 32 + 1 + 16 + 1 + 2.
const traceparentSize = 55

// checkTraceparent reads a W3C Trace Context traceparent header,
// version "-" trace-id "-" parent-id "-" trace-flags, lower-case hex throughout, without
// decoding its IDs (traceparentIDs does, once ok): their 48 digits are tested eight at a
// time (hexid.IsLowerWord), not looked up one by one. ok is false for a malformed value,
// version ff, or an all-zero trace or parent ID, all of which the specification says to
// ignore. Versions after 00 may append fields after a "-". Both access-log receivers (ALS
// and OTLP logs) read trace context with it, through Record.SetTraceparent.
func checkTraceparent(v []byte) (sampled, ok bool) {
	if len(v) < traceparentSize || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return false, false
	}
	var version, flags [1]byte
	if !hexid.DecodeLower(version[:], v[0:2]) || version[0] == 0xff ||
		(version[0] == 0 && len(v) != traceparentSize) || (len(v) > traceparentSize && v[traceparentSize] != '-') ||
		!hexid.DecodeLower(flags[:], v[53:55]) {
		return false, false
	}
	le := binary.LittleEndian
	t0, t1, t2, t3 := le.Uint64(v[3:]), le.Uint64(v[11:]), le.Uint64(v[19:]), le.Uint64(v[27:])
	s0, s1 := le.Uint64(v[36:]), le.Uint64(v[44:])
	// Of the hex digits, only '0' has no bit outside 0x30: words of digits OR to eight of
	// them only when every digit is '0', an all-zero ID.
	const zeros = 0x3030303030303030 // "00000000"
	if !hexid.IsLowerWord(t0) || !hexid.IsLowerWord(t1) || !hexid.IsLowerWord(t2) || !hexid.IsLowerWord(t3) ||
		!hexid.IsLowerWord(s0) || !hexid.IsLowerWord(s1) || t0|t1|t2|t3 == zeros || s0|s1 == zeros {
		return false, false
	}
	return flags[0]&1 == 1, true
}

// traceparentIDs decodes the IDs of a traceparent checkTraceparent took.
func traceparentIDs(v []byte) (trace [16]byte, span [8]byte) {
	hexid.DecodeLower(trace[:], v[3:35])
	hexid.DecodeLower(span[:], v[36:52])
	return trace, span
}
