package otlp

import (
	"bytes"
	"unsafe"

	"github.com/edgetel/edgetel/als"
)

// Attribute keys read from a log record, as edgetel's attributes format names them.
const (
	keyRouteName       = "route_name"
	keyRequestID       = "request_id"
	keyTraceparent     = "traceparent"
	keyResponseCode    = "response_code"
	keyResponseFlags   = "response_flags"
	keyDurationNS      = "duration_ns"
	keyDurationMS      = "duration"
	keyMethod          = "method"
	keyAuthority       = "authority"
	keyPath            = "path"
	keyUserAgent       = "user_agent"
	keyUpstreamHost    = "upstream_host"
	keyUpstreamCluster = "upstream_cluster"
	keyBytesReceived   = "bytes_received"
	keyBytesSent       = "bytes_sent"

	keyNodeName    = "node_name"
	keyClusterName = "cluster_name"
	keyLogName     = "log_name"
)

// Batch is one Export request's records as the consumer is given them. Records' byte
// fields are views of the request's bytes, or of buf, which holds the string forms of
// values that are not strings on the wire; the batch owns buf and reuses it.
type Batch struct {
	Records []als.Record
	buf     []byte
}

func (b *Batch) reset() {
	clear(b.Records) // drop the views, so that a pooled batch does not pin old requests
	b.Records = b.Records[:0]
	b.buf = b.buf[:0]
}

// limits bound what decodeLogs takes from one request.
type limits struct {
	maxRecords, maxValue int
}

// extracted is what decodeLogs did with a request's records, beside those it kept.
type extracted struct {
	invalid, overLimit, truncated int
	firstInvalid                  string // why the first invalid record was rejected
}

// parseFlags reads Envoy's %RESPONSE_FLAGS%: short codes joined by ",", "-" for none. A
// code this build does not know is skipped, as a newer Envoy may send one.
func parseFlags(s []byte) (als.ResponseFlags, bool) {
	if len(s) == 0 || string(s) == "-" {
		return 0, true
	}
	var f als.ResponseFlags
	for {
		code, rest, more := bytes.Cut(s, []byte{','})
		code = bytes.TrimSpace(code)
		if len(code) == 0 {
			return 0, false
		}
		// The code is only compared, never kept: a view needs no copy.
		if bit, ok := als.FlagByCode(unsafe.String(unsafe.SliceData(code), len(code))); ok {
			f |= bit
		}
		if !more {
			return f, true
		}
		s = rest
	}
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// parseTraceparent parses a W3C Trace Context traceparent header as the als package does:
// version "-" trace-id "-" parent-id "-" trace-flags, lower-case hex. ok is false for a
// malformed value, version ff, or an all-zero trace or parent ID.
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
		hi, lo := hexValue(src[2*i]), hexValue(src[2*i+1])
		if hi > 0xf || lo > 0xf {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func hexValue(c byte) byte { return hexValues[c] }

// hexValues maps a lower-case hex digit to its value, any other byte to 0xff: a table,
// since a traceparent has 50 digits in every record.
var hexValues = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()
