package als

// parseTraceparent parses a W3C Trace Context traceparent header,
// version "-" trace-id "-" parent-id "-" trace-flags, lower-case hex throughout. ok is
// false for a malformed value, version ff, or an all-zero trace or parent ID, all of which
// the specification says to ignore. Versions after 00 may append fields after a "-".
func parseTraceparent(v []byte) (trace [16]byte, span [8]byte, sampled, ok bool) {
	const size = 55 // 2 + 1 + 32 + 1 + 16 + 1 + 2
	if len(v) < size || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return trace, span, false, false
	}
	var version, flags [1]byte
	if !unhex(version[:], v[0:2]) || version[0] == 0xff ||
		(version[0] == 0 && len(v) != size) || (len(v) > size && v[size] != '-') {
		return trace, span, false, false
	}
	if !unhex(trace[:], v[3:35]) || !unhex(span[:], v[36:52]) || !unhex(flags[:], v[53:55]) ||
		trace == [16]byte{} || span == [8]byte{} {
		return [16]byte{}, [8]byte{}, false, false
	}
	return trace, span, flags[0]&1 == 1, true
}

// unhex decodes lower-case hex src into dst, len(src) == 2*len(dst).
func unhex(dst, src []byte) bool {
	for i := range dst {
		hi, lo := hexValue[src[2*i]], hexValue[src[2*i+1]]
		if hi > 0xf || lo > 0xf {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// hexValue maps a lower-case hex digit to its value and every other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()
