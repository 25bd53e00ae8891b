package otlp

import (
	"encoding/base64"
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Field numbers of opentelemetry.proto.common.v1.AnyValue, KeyValue, ArrayValue and
// KeyValueList.
const (
	anyString   int32 = 1
	anyBool     int32 = 2
	anyInt      int32 = 3
	anyDouble   int32 = 4
	anyArray    int32 = 5
	anyKvlist   int32 = 6
	anyBytes    int32 = 7
	anyStrindex int32 = 8 // string_value_strindex: pdata gives it the empty type

	kvKey      int32 = 1
	kvValue    int32 = 2
	kvStrindex int32 = 3

	listValues int32 = 1 // in both ArrayValue and KeyValueList
)

// valueKind is which member of AnyValue's oneof was set last, as pcommon.ValueType.
type valueKind uint8

const (
	kindEmpty valueKind = iota
	kindStr
	kindBool
	kindInt
	kindDouble
	kindBytes
	kindArray
	kindKvlist
)

// anyValue is an AnyValue as read from the wire: raw is the string or bytes, or the
// ArrayValue or KeyValueList message, a view of the request; num the bool, int or double.
type anyValue struct {
	kind valueKind
	raw  []byte
	num  uint64
}

// decode reads an AnyValue into v, merging: a member set here replaces what v held, as
// pdata's decoder merges a KeyValue's value sent twice. depth is v's nesting level.
func (v *anyValue) decode(b []byte, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	r := reader{b}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			err = v.field(&r, num, typ, depth)
		}
		if err != nil {
			return fieldError("AnyValue", num, err)
		}
	}
	return nil
}

func (v *anyValue) field(r *reader, num int32, typ wireType, depth int) (err error) {
	switch num {
	case anyString:
		v.kind = kindStr
		v.raw, err = r.bytes(typ)
	case anyBytes:
		v.kind = kindBytes
		v.raw, err = r.bytes(typ)
	case anyBool:
		v.kind = kindBool
		v.num, err = r.number(typ)
	case anyInt:
		v.kind = kindInt
		v.num, err = r.number(typ)
	case anyStrindex:
		v.kind = kindEmpty
		v.num, err = r.number(typ)
	case anyDouble:
		v.kind = kindDouble
		v.num, err = r.fixed64(typ)
	case anyArray, anyKvlist:
		v.kind = kindArray
		if num == anyKvlist {
			v.kind = kindKvlist
		}
		if v.raw, err = r.bytes(typ); err == nil {
			err = checkList(v.raw, num == anyKvlist, depth)
		}
	default:
		err = r.skip(typ)
	}
	return err
}

// checkList validates an ArrayValue (kv false) or a KeyValueList (kv true) at depth.
func checkList(b []byte, kv bool, depth int) error {
	r := reader{b}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			if num != listValues {
				err = r.skip(typ)
			} else if elem, err2 := r.bytes(typ); err2 != nil {
				err = err2
			} else if kv {
				_, _, err = decodeKeyValue(elem, depth+1)
			} else {
				err = new(anyValue).decode(elem, depth+1)
			}
		}
		if err != nil {
			return fieldError("list", num, err)
		}
	}
	return nil
}

// decodeKeyValue reads a KeyValue. As in pdata, a key sent twice keeps the last, and a
// value sent twice is merged.
func decodeKeyValue(b []byte, depth int) (key []byte, v anyValue, err error) {
	if key, str, ok := shortStringKeyValue(b); ok {
		return key, anyValue{kind: kindStr, raw: str}, nil
	}
	r := reader{b}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			switch num {
			case kvKey:
				key, err = r.bytes(typ)
			case kvValue:
				var p []byte
				if p, err = r.bytes(typ); err == nil {
					err = v.decode(p, depth)
				}
			case kvStrindex:
				_, err = r.number(typ)
			default:
				err = r.skip(typ)
			}
		}
		if err != nil {
			return nil, anyValue{}, fieldError("KeyValue", num, err)
		}
	}
	return key, v, nil
}

// shortStringKeyValue reads, without the general loop, the KeyValue nearly every attribute
// is: a key and a string value, each shorter than 128 bytes and alone in its message, so
// that every length is one byte. Envoy writes the key first; pdata, which the simulator
// uses, the value first. Any other shape is left to decodeKeyValue's loop, which reads
// these the same.
func shortStringKeyValue(b []byte) (key, str []byte, ok bool) {
	const keyTag, valueTag = 1<<3 | 2, 2<<3 | 2
	if len(b) < 6 || b[1] >= 0x80 {
		return nil, nil, false
	}
	second := 2 + int(b[1])
	if second+2 > len(b) || b[second+1] >= 0x80 || second+2+int(b[second+1]) != len(b) {
		return nil, nil, false
	}
	first, rest := b[2:second:second], b[second+2:len(b):len(b)]
	switch {
	case b[0] == keyTag && b[second] == valueTag:
		key = first
		str, ok = stringValue(rest)
	case b[0] == valueTag && b[second] == keyTag:
		str, ok = stringValue(first)
		key = rest
	}
	return key, str, ok
}

// stringValue reads an AnyValue that is a string_value alone, shorter than 128 bytes.
func stringValue(v []byte) ([]byte, bool) {
	const stringTag = 1<<3 | 2
	if len(v) < 2 || v[0] != stringTag || v[1] >= 0x80 || 2+int(v[1]) != len(v) {
		return nil, false
	}
	return v[2:len(v):len(v)], true
}

// appendString appends v as pcommon.Value.AsString renders it.
func (v anyValue) appendString(dst []byte) []byte {
	switch v.kind {
	case kindStr:
		return append(dst, v.raw...)
	case kindBool:
		return strconv.AppendBool(dst, v.num != 0)
	case kindInt:
		return strconv.AppendInt(dst, int64(v.num), 10)
	case kindDouble:
		return appendFloat(dst, math.Float64frombits(v.num))
	case kindBytes:
		return base64.StdEncoding.AppendEncode(dst, v.raw)
	case kindArray, kindKvlist:
		// JSON, as pdata renders it, with its rules for duplicate keys, NaN and invalid
		// UTF-8. Envoy never sends these, so the one allocating path is left to pdata.
		pv := pcommon.NewValueEmpty()
		v.toPdata(pv)
		return append(dst, pv.AsString()...)
	}
	return dst
}

// appendFloat is pdata's float64AsString: as encoding/json writes a float, and NaN and
// the infinities by name.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if b := dst[start:]; format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// toPdata sets pv to v. v has been validated, so nested values decode without error.
func (v anyValue) toPdata(pv pcommon.Value) {
	switch v.kind {
	case kindStr:
		pv.SetStr(string(v.raw))
	case kindBool:
		pv.SetBool(v.num != 0)
	case kindInt:
		pv.SetInt(int64(v.num))
	case kindDouble:
		pv.SetDouble(math.Float64frombits(v.num))
	case kindBytes:
		pv.SetEmptyBytes().FromRaw(v.raw)
	case kindArray:
		s := pv.SetEmptySlice()
		eachListElement(v.raw, func(elem []byte) {
			var ev anyValue
			_ = ev.decode(elem, 0)
			ev.toPdata(s.AppendEmpty())
		})
	case kindKvlist:
		m := pv.SetEmptyMap()
		eachListElement(v.raw, func(elem []byte) {
			key, ev, _ := decodeKeyValue(elem, 0)
			// Put replaces the value of a key already there: the last of duplicates wins,
			// as in pdata's AsRaw of the map it decodes.
			ev.toPdata(m.PutEmpty(string(key)))
		})
	}
}

// eachListElement calls f with each values element of a validated ArrayValue or
// KeyValueList.
func eachListElement(b []byte, f func(elem []byte)) {
	r := reader{b}
	for r.more() {
		num, typ, _ := r.tag()
		if num != listValues {
			_ = r.skip(typ)
			continue
		}
		elem, _ := r.bytes(typ)
		f(elem)
	}
}
