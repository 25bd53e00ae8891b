package otlp

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

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
// fields point into buf, which the batch owns and reuses.
type Batch struct {
	Records []als.Record
	buf     []byte
}

// limits bound what extract takes from one request.
type limits struct {
	maxRecords, maxValue int
}

// extracted is what extract did with a request.
type extracted struct {
	invalid, overLimit, truncated int
	firstInvalid                  string // why the first invalid record was rejected
}

// extract maps the log records of ld into b.Records, replacing what b held.
func extract(ld plog.Logs, lim limits, b *Batch) (x extracted) {
	b.Records = b.Records[:0]
	b.buf = b.buf[:0]
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		var node, cluster, logName []byte
		if v, ok := rl.Resource().Attributes().Get(keyNodeName); ok {
			node = b.keep(v, lim.maxValue, &x)
		}
		if v, ok := rl.Resource().Attributes().Get(keyClusterName); ok {
			cluster = b.keep(v, lim.maxValue, &x)
		}
		if v, ok := rl.Resource().Attributes().Get(keyLogName); ok {
			logName = b.keep(v, lim.maxValue, &x)
		}
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				if len(b.Records) >= lim.maxRecords {
					x.overLimit++
					continue
				}
				b.Records = append(b.Records, als.Record{Node: node, NodeCluster: cluster, LogName: logName})
				rec := &b.Records[len(b.Records)-1]
				if why := b.fill(rec, lrs.At(k), lim.maxValue, &x); why != "" {
					b.Records = b.Records[:len(b.Records)-1]
					if x.invalid == 0 {
						x.firstInvalid = why
					}
					x.invalid++
				}
			}
		}
	}
	return x
}

// fill maps lr onto rec; it returns why lr is invalid, or "".
func (b *Batch) fill(rec *als.Record, lr plog.LogRecord, maxValue int, x *extracted) (why string) {
	ts := lr.Timestamp()
	if ts == 0 {
		ts = lr.ObservedTimestamp()
	}
	if ts != 0 {
		rec.Start = ts.AsTime()
	}
	var tp []byte
	var durMS string
	haveNS := false
	lr.Attributes().Range(func(k string, v pcommon.Value) bool {
		switch k {
		case keyRouteName:
			rec.RouteName = b.keep(v, maxValue, x)
		case keyRequestID:
			rec.RequestID = b.keep(v, maxValue, x)
		case keyTraceparent:
			tp = b.keep(v, maxValue, x)
		case keyMethod:
			rec.Method = b.keep(v, maxValue, x)
		case keyAuthority:
			rec.Authority = b.keep(v, maxValue, x)
		case keyPath:
			rec.Path = b.keep(v, maxValue, x)
		case keyUserAgent:
			rec.UserAgent = b.keep(v, maxValue, x)
		case keyUpstreamHost:
			rec.UpstreamHost = b.keep(v, maxValue, x)
		case keyUpstreamCluster:
			rec.UpstreamCluster = b.keep(v, maxValue, x)
		case keyResponseFlags:
			f, ok := parseFlags(v.AsString())
			if !ok {
				why = keyResponseFlags + " " + strconv.Quote(clip(v.AsString()))
				return false
			}
			rec.Flags = f
		case keyResponseCode:
			n, ok := parseUint(v, 32)
			if !ok {
				why = keyResponseCode + " " + strconv.Quote(clip(v.AsString()))
				return false
			}
			rec.Status = uint32(n)
		case keyDurationNS:
			n, ok := parseUint(v, 63)
			if !ok {
				why = keyDurationNS + " " + strconv.Quote(clip(v.AsString()))
				return false
			}
			rec.Duration, haveNS = time.Duration(n), true
		case keyDurationMS:
			durMS = v.AsString()
		case keyBytesReceived:
			n, ok := parseUint(v, 64)
			if !ok {
				why = keyBytesReceived + " " + strconv.Quote(clip(v.AsString()))
				return false
			}
			rec.BytesReceived = n
		case keyBytesSent:
			n, ok := parseUint(v, 64)
			if !ok {
				why = keyBytesSent + " " + strconv.Quote(clip(v.AsString()))
				return false
			}
			rec.BytesSent = n
		}
		return true
	})
	if why != "" {
		return why
	}
	if !haveNS && len(durMS) > 0 && durMS != "-" {
		ms, err := strconv.ParseUint(durMS, 10, 63)
		if err != nil || ms > uint64(1<<63-1)/uint64(time.Millisecond) {
			return keyDurationMS + " " + strconv.Quote(clip(durMS))
		}
		rec.Duration = time.Duration(ms) * time.Millisecond
	}
	if tp != nil {
		rec.TraceID, rec.SpanID, rec.Sampled, rec.HasTrace = parseTraceparent(tp)
	} else if tid, sid := lr.TraceID(), lr.SpanID(); !tid.IsEmpty() && !sid.IsEmpty() {
		// No traceparent logged: the active span's IDs the logger put on the record.
		rec.TraceID, rec.SpanID, rec.Sampled, rec.HasTrace = tid, sid, lr.Flags().IsSampled(), true
	}
	return ""
}

// keep copies v's string form, cut to maxValue bytes, into b's buffer and returns the copy.
// A copy made before the buffer grew stays valid: it keeps the old array alive.
func (b *Batch) keep(v pcommon.Value, maxValue int, x *extracted) []byte {
	var s string
	if v.Type() == pcommon.ValueTypeStr {
		s = v.Str()
	} else {
		s = v.AsString()
	}
	if s == "" || s == "-" {
		return nil // Envoy's "no value"
	}
	if len(s) > maxValue {
		s = s[:maxValue]
		x.truncated++
	}
	start := len(b.buf)
	b.buf = append(b.buf, s...)
	return b.buf[start:len(b.buf):len(b.buf)]
}

// parseUint reads v as a non-negative integer of bits bits: an integer value, or a string
// of decimal digits. Envoy's "-" (no value) reads as 0.
func parseUint(v pcommon.Value, bits int) (uint64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		n := v.Int()
		if n < 0 || bits < 64 && uint64(n) >= 1<<bits {
			return 0, false
		}
		return uint64(n), true
	case pcommon.ValueTypeStr:
		s := v.Str()
		if s == "" || s == "-" {
			return 0, true
		}
		n, err := strconv.ParseUint(s, 10, bits)
		return n, err == nil
	}
	return 0, false
}

// parseFlags reads Envoy's %RESPONSE_FLAGS%: short codes joined by ",", "-" for none. A
// code this build does not know is skipped, as a newer Envoy may send one.
func parseFlags(s string) (als.ResponseFlags, bool) {
	if s == "" || s == "-" {
		return 0, true
	}
	var f als.ResponseFlags
	for code := range strings.SplitSeq(s, ",") {
		code = strings.TrimSpace(code)
		if code == "" {
			return 0, false
		}
		if bit, ok := als.FlagByCode(code); ok {
			f |= bit
		}
	}
	return f, true
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

func hexValue(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return 0xff
}
