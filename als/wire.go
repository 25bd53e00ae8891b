package als

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrMalformed is wrapped by every error that Decoder.Decode returns: the message is not
// valid protobuf, or a field that the decoder reads has the wrong wire type.
var ErrMalformed = errors.New("als: malformed access-log message")

// Causes wrapped under ErrMalformed, with the path of the field where they were found.
var (
	errWireType   = errors.New("wrong wire type")
	errEndGroup   = errors.New("unmatched end of group")
	errGroupDepth = errors.New("groups nested too deep")
)

// maxGroupDepth bounds how deeply groups may nest inside an unknown field. Envoy's messages
// are proto3 and have no groups at all; the bound only keeps a hostile message from making
// the skip recurse as deep as protowire's own limit (10,000).
const maxGroupDepth = 16

// reader walks the fields of one protobuf message. Its methods return a cause that the
// caller wraps with the field's path (see fieldError): nothing on the success path allocates.
type reader struct {
	b []byte
}

func (r *reader) more() bool { return len(r.b) > 0 }

// tag reads the next field's number and wire type. The one-byte tag (field numbers 1 to
// 15), nearly every tag of an access log, is decoded inline; the rest in tagSlow.
func (r *reader) tag() (protowire.Number, protowire.Type, error) {
	if b := r.b; len(b) > 0 && b[0] < 0x80 && b[0] >= 8 {
		r.b = b[1:]
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), nil
	}
	return r.tagSlow()
}

func (r *reader) tagSlow() (protowire.Number, protowire.Type, error) {
	if v, n := uvarint2(r.b); n > 0 && v>>3 >= uint64(protowire.MinValidNumber) {
		r.b = r.b[n:]
		return protowire.Number(v >> 3), protowire.Type(v & 7), nil
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		return 0, 0, protowire.ParseError(n)
	}
	r.b = r.b[n:]
	return num, typ, nil
}

// varint reads the value of a varint field whose tag said typ; one-byte values inline.
func (r *reader) varint(typ protowire.Type) (uint64, error) {
	if b := r.b; typ == protowire.VarintType && len(b) > 0 && b[0] < 0x80 {
		r.b = b[1:]
		return uint64(b[0]), nil
	}
	return r.varintSlow(typ)
}

func (r *reader) varintSlow(typ protowire.Type) (uint64, error) {
	if typ != protowire.VarintType {
		return 0, wireTypeError(typ, protowire.VarintType)
	}
	if v, n := uvarint2(r.b); n > 0 {
		r.b = r.b[n:]
		return v, nil
	}
	v, n := protowire.ConsumeVarint(r.b)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	r.b = r.b[n:]
	return v, nil
}

// bytes reads the payload of a length-delimited field whose tag said typ. The result is a
// view of the input, capped so that a consumer appending to it cannot overwrite the bytes
// that follow. Payloads shorter than 128 bytes, most strings of an access log, are read
// inline.
func (r *reader) bytes(typ protowire.Type) ([]byte, error) {
	if b := r.b; typ == protowire.BytesType && len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
		end := 1 + int(b[0])
		r.b = b[end:]
		return b[1:end:end], nil
	}
	return r.bytesSlow(typ)
}

func (r *reader) bytesSlow(typ protowire.Type) ([]byte, error) {
	if typ != protowire.BytesType {
		return nil, wireTypeError(typ, protowire.BytesType)
	}
	if m, n := uvarint2(r.b); n > 0 && m <= uint64(len(r.b)-n) {
		end := n + int(m)
		v := r.b[n:end:end]
		r.b = r.b[end:]
		return v, nil
	}
	v, n := protowire.ConsumeBytes(r.b)
	if n < 0 {
		return nil, protowire.ParseError(n)
	}
	r.b = r.b[n:]
	return v[:len(v):len(v)], nil
}

// skip passes over the value of a field the decoder does not read. Length-delimited values
// are skipped unparsed: like proto.Unmarshal, the decoder does not look inside unknown fields.
func (r *reader) skip(num protowire.Number, typ protowire.Type) error {
	var err error
	switch typ {
	case protowire.VarintType:
		_, err = r.varint(typ)
	case protowire.BytesType:
		_, err = r.bytes(typ)
	case protowire.StartGroupType:
		var n int
		if n, err = skipGroup(r.b, num, 1); err == nil {
			r.b = r.b[n:]
		}
	case protowire.EndGroupType:
		err = errEndGroup
	default:
		n := protowire.ConsumeFieldValue(num, typ, r.b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		r.b = r.b[n:]
	}
	return err
}

// uvarint2 decodes a varint of one or two bytes, the size of nearly every tag, length and
// number in an access log, so that the common case skips protowire's general loop. n is 0
// for a longer varint or short input, which protowire then decodes or rejects.
func uvarint2(b []byte) (v uint64, n int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	if len(b) > 1 && b[1] < 0x80 {
		return uint64(b[0]&0x7f) | uint64(b[1])<<7, 2
	}
	return 0, 0
}

// skipGroup returns the length of the group that starts at b (after its start tag), up to
// and including its end tag.
func skipGroup(b []byte, num protowire.Number, depth int) (int, error) {
	if depth > maxGroupDepth {
		return 0, errGroupDepth
	}
	r := reader{b}
	for {
		n, typ, err := r.tag()
		if err != nil {
			return 0, err
		}
		switch typ {
		case protowire.EndGroupType:
			if n != num {
				return 0, errEndGroup
			}
			return len(b) - len(r.b), nil
		case protowire.StartGroupType:
			m, err := skipGroup(r.b, n, depth+1)
			if err != nil {
				return 0, err
			}
			r.b = r.b[m:]
		default:
			if err := r.skip(n, typ); err != nil {
				return 0, err
			}
		}
	}
}

func wireTypeError(got, want protowire.Type) error {
	return fmt.Errorf("%w %s, want %s", errWireType, wireTypeName(got), wireTypeName(want))
}

func wireTypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "bytes"
	case protowire.StartGroupType, protowire.EndGroupType:
		return "group"
	}
	return fmt.Sprintf("type %d", t)
}

// fieldError prefixes err with the message and field where it was found, so that the
// final error reads as a path: "HTTPAccessLogEntry field 3: HTTPRequestProperties field 5:
// wrong wire type varint, want bytes".
func fieldError(msg string, num protowire.Number, err error) error {
	return fmt.Errorf("%s field %d: %w", msg, num, err)
}
