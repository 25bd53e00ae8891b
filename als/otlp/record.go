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
