package otlp

// The oracle: how the receiver mapped a request before it decoded the wire itself, pdata's
// decoding (plogotlp) and then this mapping of pdata's logs, kept verbatim but for the
// names. decodeLogs must give exactly the records it gives (oracle_test.go, FuzzDecodeLogs).

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/edgetel/edgetel/als"
)

// pdataExtract maps the log records of ld into b.Records, replacing what b held.
func pdataExtract(ld plog.Logs, lim limits, b *Batch) (x extracted) {
	b.Records = b.Records[:0]
	b.buf = b.buf[:0]
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		var node, cluster, logName []byte
		if v, ok := rl.Resource().Attributes().Get(keyNodeName); ok {
			node = b.pdataKeep(v, lim.maxValue, &x)
		}
		if v, ok := rl.Resource().Attributes().Get(keyClusterName); ok {
			cluster = b.pdataKeep(v, lim.maxValue, &x)
		}
		if v, ok := rl.Resource().Attributes().Get(keyLogName); ok {
			logName = b.pdataKeep(v, lim.maxValue, &x)
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
				if why := b.pdataFill(rec, lrs.At(k), lim.maxValue, &x); why != "" {
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
func (b *Batch) pdataFill(rec *als.Record, lr plog.LogRecord, maxValue int, x *extracted) (why string) {
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
			rec.RouteName = b.pdataKeep(v, maxValue, x)
		case keyRequestID:
			rec.RequestID = b.pdataKeep(v, maxValue, x)
		case keyTraceparent:
			tp = b.pdataKeep(v, maxValue, x)
		case keyMethod:
			rec.Method = b.pdataKeep(v, maxValue, x)
		case keyAuthority:
			rec.Authority = b.pdataKeep(v, maxValue, x)
		case keyPath:
			rec.Path = b.pdataKeep(v, maxValue, x)
		case keyUserAgent:
			rec.UserAgent = b.pdataKeep(v, maxValue, x)
		case keyUpstreamHost:
			rec.UpstreamHost = als.HostPort{Host: b.pdataKeep(v, maxValue, x)}
		case keyUpstreamCluster:
			rec.UpstreamCluster = b.pdataKeep(v, maxValue, x)
		case keyResponseFlags:
			f, ok := pdataParseFlags(v.AsString())
			if !ok {
				why = keyResponseFlags + " " + strconv.Quote(pdataClip(v.AsString()))
				return false
			}
			rec.Flags = f
		case keyResponseCode:
			n, ok := pdataParseUint(v, 32)
			if !ok {
				why = keyResponseCode + " " + strconv.Quote(pdataClip(v.AsString()))
				return false
			}
			rec.Status = uint32(n)
		case keyDurationNS:
			n, ok := pdataParseUint(v, 63)
			if !ok {
				why = keyDurationNS + " " + strconv.Quote(pdataClip(v.AsString()))
				return false
			}
			rec.Duration, haveNS = time.Duration(n), true
		case keyDurationMS:
			durMS = v.AsString()
		case keyBytesReceived:
			n, ok := pdataParseUint(v, 64)
			if !ok {
				why = keyBytesReceived + " " + strconv.Quote(pdataClip(v.AsString()))
				return false
			}
			rec.BytesReceived = n
		case keyBytesSent:
			n, ok := pdataParseUint(v, 64)
			if !ok {
				why = keyBytesSent + " " + strconv.Quote(pdataClip(v.AsString()))
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
			return keyDurationMS + " " + strconv.Quote(pdataClip(durMS))
		}
		rec.Duration = time.Duration(ms) * time.Millisecond
	}
	if tp != nil {
		rec.SetTraceparent(tp)
	} else if tid, sid := lr.TraceID(), lr.SpanID(); !tid.IsEmpty() && !sid.IsEmpty() {
		// No traceparent logged: the active span's IDs the logger put on the record.
		rec.SetTrace(tid, sid, lr.Flags().IsSampled())
	}
	return ""
}

// keep copies v's string form, cut to maxValue bytes, into b's buffer and returns the copy.
// A copy made before the buffer grew stays valid: it keeps the old array alive.
func (b *Batch) pdataKeep(v pcommon.Value, maxValue int, x *extracted) []byte {
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
func pdataParseUint(v pcommon.Value, bits int) (uint64, bool) {
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
func pdataParseFlags(s string) (als.ResponseFlags, bool) {
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
func pdataClip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
