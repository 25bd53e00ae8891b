package otlp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error decodeLogs returns: the request is not an
// ExportLogsServiceRequest that pdata would accept, or it is one that edgetel bounds (see
// maxDepth and the group rule in reader.skip).
var ErrMalformed = errors.New("otlp logs: malformed ExportLogsServiceRequest")

// Causes wrapped under ErrMalformed, with the path of the field where they were found.
var (
	errTruncated   = errors.New("unexpected end of message")
	errOverflow    = errors.New("varint overflows 64 bits")
	errLength      = errors.New("negative length")
	errFieldNumber = errors.New("illegal field number")
	errWireType    = errors.New("wrong wire type")
	errGroup       = errors.New("groups are not used by OTLP")
	errIDLength    = errors.New("trace or span ID of the wrong length")
	errDepth       = errors.New("values nested too deep")
)

// maxDepth bounds how deeply AnyValues may nest (arrays and key-value lists in attribute
// values). Envoy sends flat strings; pdata has no bound and would recurse as deep as a
// hostile message asks.
const maxDepth = 32

// wireType is a protobuf wire type.
type wireType uint8

const (
	wireVarint  wireType = 0
	wireFixed64 wireType = 1
	wireBytes   wireType = 2
	wireGroup   wireType = 3 // start group; 4 is end group
	wireFixed32 wireType = 5
)

// reader walks the fields of one message. It reads as pdata's generated decoder does
// (internal/proto of go.opentelemetry.io/collector/pdata), so that the two accept the same
// messages: a varint may take ten bytes whatever the last one holds, and a field number is
// the tag's bits above the wire type truncated to int32, which must then be positive. Its
// methods return bare causes; callers add the path (see fieldError). Nothing allocates on
// the success path.
type reader struct {
	b []byte
}

func (r *reader) more() bool { return len(r.b) > 0 }

// varint, tag and bytes decode their one-byte cases inline (nearly every tag, length and
// small number of an access log) and leave the rest to a function call.
func (r *reader) varint() (uint64, error) {
	if b := r.b; len(b) > 0 && b[0] < 0x80 {
		r.b = b[1:]
		return uint64(b[0]), nil
	}
	return r.varintSlow()
}

//go:noinline // keeps the fast path small enough to inline
func (r *reader) varintSlow() (uint64, error) {
	b := r.b
	var v uint64
	for i, shift := 0, uint(0); ; i, shift = i+1, shift+7 {
		if shift >= 64 {
			return 0, errOverflow
		}
		if i >= len(b) {
			return 0, errTruncated
		}
		v |= uint64(b[i]&0x7f) << shift
		if b[i] < 0x80 {
			r.b = b[i+1:]
			return v, nil
		}
	}
}

func (r *reader) tag() (int32, wireType, error) {
	if b := r.b; len(b) > 0 && b[0] < 0x80 && b[0] >= 8 {
		r.b = b[1:]
		return int32(b[0] >> 3), wireType(b[0] & 7), nil
	}
	return r.tagSlow()
}

//go:noinline // keeps the fast path small enough to inline
func (r *reader) tagSlow() (int32, wireType, error) {
	v, err := r.varint()
	if err != nil {
		return 0, 0, err
	}
	num := int32(v >> 3) // truncated as pdata truncates it
	if num <= 0 {
		return 0, 0, errFieldNumber
	}
	return num, wireType(v & 7), nil
}

// bytes reads a length-delimited payload: a view of the message, capped so that appending
// to it cannot overwrite what follows.
func (r *reader) bytes(typ wireType) ([]byte, error) {
	if b := r.b; typ == wireBytes && len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
		end := 1 + int(b[0])
		r.b = b[end:]
		return b[1:end:end], nil
	}
	return r.bytesSlow(typ)
}

//go:noinline // keeps the fast path small enough to inline
func (r *reader) bytesSlow(typ wireType) ([]byte, error) {
	if typ != wireBytes {
		return nil, wireTypeError(typ, wireBytes)
	}
	n, err := r.varint()
	if err != nil {
		return nil, err
	}
	if int(n) < 0 {
		return nil, errLength
	}
	if n > uint64(len(r.b)) {
		return nil, errTruncated
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) number(typ wireType) (uint64, error) {
	if typ != wireVarint {
		return 0, wireTypeError(typ, wireVarint)
	}
	return r.varint()
}

func (r *reader) fixed64(typ wireType) (uint64, error) {
	if typ != wireFixed64 {
		return 0, wireTypeError(typ, wireFixed64)
	}
	if len(r.b) < 8 {
		return 0, errTruncated
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v, nil
}

func (r *reader) fixed32(typ wireType) (uint32, error) {
	if typ != wireFixed32 {
		return 0, wireTypeError(typ, wireFixed32)
	}
	if len(r.b) < 4 {
		return 0, errTruncated
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v, nil
}

// skip passes over a field the decoder does not read. Groups are refused: OTLP is proto3
// and has none, and pdata's skipping of them is not protobuf's (it stops at the group's
// first scalar and parses the rest as fields of the enclosing message).
func (r *reader) skip(typ wireType) error {
	var err error
	switch typ {
	case wireVarint:
		_, err = r.varint()
	case wireFixed64:
		_, err = r.fixed64(typ)
	case wireBytes:
		_, err = r.bytes(typ)
	case wireFixed32:
		_, err = r.fixed32(typ)
	case wireGroup, wireGroup + 1:
		err = errGroup
	default:
		err = fmt.Errorf("%w: illegal wire type %d", errWireType, typ)
	}
	return err
}

func wireTypeError(got, want wireType) error {
	return fmt.Errorf("%w %d, want %d", errWireType, got, want)
}

// fieldError prefixes err with the message and field where it was found, so that the final
// error reads as a path: "ResourceLogs field 2: ScopeLogs field 2: record 3: ...".
func fieldError(msg string, num int32, err error) error {
	return fmt.Errorf("%s field %d: %w", msg, num, err)
}
