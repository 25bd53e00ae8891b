package otlp

import (
	"strconv"
	"time"

	"github.com/edgetel/edgetel/als"
)

// Field numbers of opentelemetry.proto.logs.v1.LogRecord.
const (
	lrTime          int32 = 1
	lrSeverity      int32 = 2
	lrSeverityText  int32 = 3
	lrBody          int32 = 5
	lrAttributes    int32 = 6
	lrDropped       int32 = 7
	lrFlags         int32 = 8
	lrTraceID       int32 = 9
	lrSpanID        int32 = 10
	lrObservedTime  int32 = 11
	lrEventName     int32 = 12
	traceFlagSample       = 1 // LogRecord.flags: the W3C sampled bit
)

// recordState is what a LogRecord's fields give before its record is final: timestamps and
// IDs may come after the attributes on the wire, and the attributes are read in order, as
// pcommon.Map.Range gives them.
type recordState struct {
	rec                *als.Record // nil when the record is only checked
	time, observed     uint64
	traceID            [16]byte
	spanID             [8]byte
	flags              uint32
	traceparent, durMS []byte
	haveNS             bool
	why                string // why the record is invalid; later attributes are not read
}

// logRecord decodes a LogRecord, appending its record to the batch when take and the
// limit allows; else it only checks it.
func (d *decoder) logRecord(buf []byte, take bool) error {
	var s recordState
	if take {
		if len(d.b.Records) >= d.lim.maxRecords {
			d.x.overLimit++
		} else {
			d.b.Records = append(d.b.Records, als.Record{Node: d.node, NodeCluster: d.cluster, LogName: d.logName})
			s.rec = &d.b.Records[len(d.b.Records)-1]
		}
	}
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			err = d.recordField(&r, num, typ, &s)
		}
		if err != nil {
			return fieldError("LogRecord", num, err)
		}
	}
	if s.rec != nil {
		d.finish(&s)
	}
	return nil
}

func (d *decoder) recordField(r *reader, num int32, typ wireType, s *recordState) (err error) {
	var v []byte
	switch num {
	case lrTime:
		s.time, err = r.fixed64(typ)
	case lrObservedTime:
		s.observed, err = r.fixed64(typ)
	case lrSeverity, lrDropped:
		_, err = r.number(typ)
	case lrSeverityText, lrEventName:
		_, err = r.bytes(typ)
	case lrFlags:
		s.flags, err = r.fixed32(typ)
	case lrBody:
		if v, err = r.bytes(typ); err == nil {
			err = new(anyValue).decode(v, 0)
		}
	case lrAttributes:
		if v, err = r.bytes(typ); err == nil {
			err = d.attribute(v, s)
		}
	case lrTraceID:
		if v, err = r.bytes(typ); err == nil {
			err = setID(s.traceID[:], v)
		}
	case lrSpanID:
		if v, err = r.bytes(typ); err == nil {
			err = setID(s.spanID[:], v)
		}
	default:
		err = r.skip(typ)
	}
	return err
}

// setID sets a trace or span ID as pdata does: empty is all zeros, any other length but
// the ID's is malformed.
func setID(id, v []byte) error {
	switch len(v) {
	case 0:
		clear(id)
	case len(id):
		copy(id, v)
	default:
		return errIDLength
	}
	return nil
}

// finish sets what the record's fields other than its attributes give, and drops the record
// if an attribute was invalid.
func (d *decoder) finish(s *recordState) {
	rec := s.rec
	if s.why == "" && !s.haveNS && len(s.durMS) > 0 && string(s.durMS) != "-" {
		ms, ok := parseDecimal(s.durMS, 63)
		if !ok || ms > uint64(1<<63-1)/uint64(time.Millisecond) {
			s.why = keyDurationMS + " " + strconv.Quote(clip(string(s.durMS)))
		} else {
			rec.Duration = time.Duration(ms) * time.Millisecond
		}
	}
	if s.why != "" {
		d.b.Records = d.b.Records[:len(d.b.Records)-1]
		if d.x.invalid == 0 {
			d.x.firstInvalid = s.why
		}
		d.x.invalid++
		return
	}
	ts := s.time
	if ts == 0 {
		ts = s.observed
	}
	if ts != 0 {
		rec.Start = time.Unix(0, int64(ts)).UTC() // as pcommon.Timestamp.AsTime
	}
	if s.traceparent != nil {
		rec.SetTraceparent(s.traceparent)
	} else if s.traceID != [16]byte{} && s.spanID != [8]byte{} {
		// No traceparent logged: the active span's IDs the logger put on the record.
		rec.SetTrace(s.traceID, s.spanID, s.flags&traceFlagSample != 0)
	}
}

// attribute decodes one of a record's attributes and, unless an earlier one made the record
// invalid, maps it onto the record.
func (d *decoder) attribute(buf []byte, s *recordState) error {
	key, v, err := decodeKeyValue(buf, 0)
	if err != nil || s.rec == nil || s.why != "" {
		return err
	}
	rec := s.rec
	switch string(key) {
	case keyRouteName:
		rec.RouteName = d.keep(v)
	case keyRequestID:
		rec.RequestID = d.keep(v)
	case keyTraceparent:
		s.traceparent = d.keep(v)
	case keyMethod:
		rec.Method = d.keep(v)
	case keyAuthority:
		rec.Authority = d.keep(v)
	case keyPath:
		rec.Path = d.keep(v)
	case keyUserAgent:
		rec.UserAgent = d.keep(v)
	case keyUpstreamHost:
		rec.UpstreamHost = als.HostPort{Host: d.keep(v)} // already "ip:port"
	case keyUpstreamCluster:
		rec.UpstreamCluster = d.keep(v)
	case keyDurationMS:
		s.durMS = d.asString(v)
	default:
		d.numeric(string(key), v, s)
	}
	return nil
}

// numeric maps the attributes that must parse; a value that does not makes the record
// invalid.
func (d *decoder) numeric(key string, v anyValue, s *recordState) {
	rec := s.rec
	var n uint64
	ok := true
	switch key {
	case keyResponseFlags:
		start := len(d.b.buf)
		rec.Flags, ok = parseFlags(d.asString(v))
		d.b.buf = d.b.buf[:start] // the rendering was scratch
	case keyResponseCode:
		n, ok = parseUint(v, 32)
		rec.Status = uint32(n)
	case keyDurationNS:
		n, ok = parseUint(v, 63)
		rec.Duration, s.haveNS = time.Duration(n), ok
	case keyBytesReceived:
		n, ok = parseUint(v, 64)
		rec.BytesReceived = n
	case keyBytesSent:
		n, ok = parseUint(v, 64)
		rec.BytesSent = n
	}
	if !ok {
		s.why = key + " " + strconv.Quote(clip(string(v.appendString(nil))))
	}
}

// asString returns v as pcommon.Value.AsString renders it: a view of a string value, else
// a rendering in the batch's buffer.
func (d *decoder) asString(v anyValue) []byte {
	if v.kind == kindStr {
		return v.raw
	}
	start := len(d.b.buf)
	d.b.buf = v.appendString(d.b.buf)
	return d.b.buf[start:len(d.b.buf):len(d.b.buf)]
}

// keep returns v's string form, cut to maxValue bytes and counted when cut, or nil for
// Envoy's "no value" ("" or "-"). A rendering made before the buffer grew stays valid: it
// keeps the old array alive.
func (d *decoder) keep(v anyValue) []byte {
	start := len(d.b.buf)
	s := d.asString(v)
	if len(s) == 0 || string(s) == "-" {
		d.b.buf = d.b.buf[:start]
		return nil
	}
	if len(s) > d.lim.maxValue {
		s = s[:d.lim.maxValue:d.lim.maxValue]
		d.x.truncated++
		if v.kind != kindStr {
			d.b.buf = d.b.buf[:start+len(s)]
		}
	}
	return s
}

// parseUint reads v as a non-negative integer of bits bits: an integer value, or a string
// of decimal digits. Envoy's "-" (no value) reads as 0.
func parseUint(v anyValue, bits int) (uint64, bool) {
	switch v.kind {
	case kindInt:
		n := int64(v.num)
		if n < 0 || bits < 64 && uint64(n) >= 1<<bits {
			return 0, false
		}
		return uint64(n), true
	case kindStr:
		if len(v.raw) == 0 || string(v.raw) == "-" {
			return 0, true
		}
		return parseDecimal(v.raw, bits)
	}
	return 0, false
}

// parseDecimal is strconv.ParseUint(s, 10, bits) without converting s to a string, which
// would allocate for every number of every record.
func parseDecimal(s []byte, bits int) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	limit := uint64(1)<<bits - 1 // all ones for 64: the shift gives 0
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' || n > (limit-uint64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
