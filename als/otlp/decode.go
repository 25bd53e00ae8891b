package otlp

import (
	"fmt"
)

// Field numbers of opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest and the
// messages in it, as far as they are read or checked.
const (
	requestResourceLogs int32 = 1

	rlResource            int32 = 1
	rlScopeLogs           int32 = 2
	rlSchemaURL           int32 = 3
	rlDeprecatedScopeLogs int32 = 1000 // read, as pdata reads it, only when scope_logs is absent

	resourceAttributes int32 = 1
	resourceDropped    int32 = 2
	resourceEntityRefs int32 = 3

	slScope      int32 = 1
	slLogRecords int32 = 2
	slSchemaURL  int32 = 3

	scopeName       int32 = 1
	scopeVersion    int32 = 2
	scopeAttributes int32 = 3
	scopeDropped    int32 = 4
)

// decodeLogs decodes one serialized ExportLogsServiceRequest into b, replacing what b held,
// as extracting the records from pdata's decoding of it would (see the package comment):
// pdata's decoder and record mapping are the test oracle that FuzzDecodeLogs holds it to.
// Records' byte fields are views of msg, or of b's own buffer for values that are not
// strings on the wire: msg must stay unmodified while they are in use.
//
// A request that pdata would not decode returns an error wrapping ErrMalformed and leaves b
// empty; so does one that nests values deeper than maxDepth, or has groups.
func decodeLogs(msg []byte, lim limits, b *Batch) (extracted, error) {
	b.reset()
	d := decoder{lim: lim, b: b}
	r := reader{msg}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			if num == requestResourceLogs {
				var v []byte
				if v, err = r.bytes(typ); err == nil {
					err = d.resourceLogs(v)
				}
			} else {
				err = r.skip(typ)
			}
		}
		if err != nil {
			b.reset()
			return extracted{}, fmt.Errorf("%w: %w", ErrMalformed, fieldError("ExportLogsServiceRequest", num, err))
		}
	}
	return d.x, nil
}

// decoder is the state of one decodeLogs call.
type decoder struct {
	lim limits
	b   *Batch
	x   extracted
	// node, cluster and logName are the resource's, for the records of its ResourceLogs.
	node, cluster, logName []byte
}

// resourceLogs decodes a ResourceLogs in two passes, because its resource may come after
// its records on the wire, and because its deprecated scope logs count only when it has no
// scope_logs at all: the first pass reads the resource and checks the framing, the second
// decodes the records.
func (d *decoder) resourceLogs(buf []byte) error {
	var res resourceAttrs
	hasScopeLogs := false
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			var v []byte
			switch num {
			case rlResource:
				if v, err = r.bytes(typ); err == nil {
					err = res.decode(v)
				}
			case rlScopeLogs, rlDeprecatedScopeLogs, rlSchemaURL:
				_, err = r.bytes(typ)
				hasScopeLogs = hasScopeLogs || num == rlScopeLogs
			default:
				err = r.skip(typ)
			}
		}
		if err != nil {
			return fieldError("ResourceLogs", num, err)
		}
	}
	d.node, d.cluster, d.logName = d.keepFound(res.node), d.keepFound(res.cluster), d.keepFound(res.logName)
	read := rlScopeLogs
	if !hasScopeLogs {
		read = rlDeprecatedScopeLogs
	}
	r = reader{buf}
	for r.more() {
		num, typ, _ := r.tag() // checked by the first pass, as are the lengths below
		if num != rlScopeLogs && num != rlDeprecatedScopeLogs {
			_ = r.skip(typ)
			continue
		}
		v, _ := r.bytes(typ)
		if err := d.scopeLogs(v, num == read); err != nil {
			return fieldError("ResourceLogs", num, err)
		}
	}
	return nil
}

// resourceAttrs are the resource attributes a record takes, as pcommon.Map.Get finds
// them: the first attribute of each key, over all the resource's attributes.
type resourceAttrs struct {
	node, cluster, logName foundValue
}

type foundValue struct {
	v     anyValue
	found bool
}

func (f *foundValue) offer(v anyValue) {
	if !f.found {
		f.v, f.found = v, true
	}
}

// decode reads a Resource; a resource sent twice is merged, its attributes appended.
func (res *resourceAttrs) decode(buf []byte) error {
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			var v []byte
			switch num {
			case resourceAttributes:
				if v, err = r.bytes(typ); err == nil {
					err = res.attribute(v)
				}
			case resourceDropped:
				_, err = r.number(typ)
			case resourceEntityRefs:
				if v, err = r.bytes(typ); err == nil {
					err = checkStrings("EntityRef", v, 4)
				}
			default:
				err = r.skip(typ)
			}
		}
		if err != nil {
			return fieldError("Resource", num, err)
		}
	}
	return nil
}

func (res *resourceAttrs) attribute(buf []byte) error {
	key, v, err := decodeKeyValue(buf, 0)
	if err != nil {
		return err
	}
	switch string(key) {
	case keyNodeName:
		res.node.offer(v)
	case keyClusterName:
		res.cluster.offer(v)
	case keyLogName:
		res.logName.offer(v)
	}
	return nil
}

func (d *decoder) keepFound(f foundValue) []byte {
	if !f.found {
		return nil
	}
	return d.keep(f.v)
}

// scopeLogs decodes a ScopeLogs; its records are taken when take, else only checked.
func (d *decoder) scopeLogs(buf []byte, take bool) error {
	r := reader{buf}
	for i := 0; r.more(); {
		num, typ, err := r.tag()
		if err == nil {
			var v []byte
			switch num {
			case slScope:
				if v, err = r.bytes(typ); err == nil {
					err = checkScope(v)
				}
			case slLogRecords:
				if v, err = r.bytes(typ); err == nil {
					if err = d.logRecord(v, take); err != nil {
						err = fmt.Errorf("record %d: %w", i, err)
					}
					i++
				}
			case slSchemaURL:
				_, err = r.bytes(typ)
			default:
				err = r.skip(typ)
			}
		}
		if err != nil {
			return fieldError("ScopeLogs", num, err)
		}
	}
	return nil
}

// checkScope checks an InstrumentationScope, which no record field comes from.
func checkScope(buf []byte) error {
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			switch num {
			case scopeName, scopeVersion:
				_, err = r.bytes(typ)
			case scopeAttributes:
				var v []byte
				if v, err = r.bytes(typ); err == nil {
					_, _, err = decodeKeyValue(v, 0)
				}
			case scopeDropped:
				_, err = r.number(typ)
			default:
				err = r.skip(typ)
			}
		}
		if err != nil {
			return fieldError("InstrumentationScope", num, err)
		}
	}
	return nil
}

// checkStrings checks a message whose fields 1 to last are all strings (EntityRef).
func checkStrings(msg string, buf []byte, last int32) error {
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			if num <= last {
				_, err = r.bytes(typ)
			} else {
				err = r.skip(typ)
			}
		}
		if err != nil {
			return fieldError(msg, num, err)
		}
	}
	return nil
}
