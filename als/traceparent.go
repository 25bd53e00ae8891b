package als

import "github.com/edgetel/edgetel/internal/hexid"

// ParseTraceparent parses a W3C Trace Context traceparent header,
// version "-" trace-id "-" parent-id "-" trace-flags, lower-case hex throughout. ok is
// false for a malformed value, version ff, or an all-zero trace or parent ID, all of which
// the specification says to ignore. Versions after 00 may append fields after a "-".
// Both access-log receivers (ALS and OTLP logs) read trace context with it.
func ParseTraceparent(v []byte) (trace [16]byte, span [8]byte, sampled, ok bool) {
	const size = 55 // 2 + 1 + 32 + 1 + 16 + 1 + 2
	if len(v) < size || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return trace, span, false, false
	}
	var version, flags [1]byte
	if !hexid.DecodeLower(version[:], v[0:2]) || version[0] == 0xff ||
		(version[0] == 0 && len(v) != size) || (len(v) > size && v[size] != '-') {
		return trace, span, false, false
	}
	if !hexid.DecodeLower(trace[:], v[3:35]) || !hexid.DecodeLower(span[:], v[36:52]) || !hexid.DecodeLower(flags[:], v[53:55]) ||
		trace == [16]byte{} || span == [8]byte{} {
		return [16]byte{}, [8]byte{}, false, false
	}
	return trace, span, flags[0]&1 == 1, true
}
