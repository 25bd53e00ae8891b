package metrics

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrMalformed is wrapped by every error the decoder returns: the message is not valid
// protobuf, or a field that the decoder reads has the wrong wire type.
var ErrMalformed = errors.New("metrics: malformed metrics-service message")

// Causes wrapped under ErrMalformed, with the path of the field where they were found.
var (
	errWireType = errors.New("wrong wire type")
	// errGroup: none of these messages has a group, proto2 though io.prometheus.client is.
	// Rejecting them, where proto.Unmarshal would skip them as unknown fields, spares a
	// recursive skip that a hostile message could nest thousands deep.
	errGroup = errors.New("groups are not used by these messages")
)

// reader walks the fields of one protobuf message. Nothing on its success path allocates:
// byte fields are views of the input.
type reader struct {
	b []byte
}

func (r *reader) more() bool { return len(r.b) > 0 }

func (r *reader) tag() (protowire.Number, protowire.Type, error) {
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		return 0, 0, protowire.ParseError(n)
	}
	r.b = r.b[n:]
	return num, typ, nil
}

func (r *reader) varint(typ protowire.Type) (uint64, error) {
	if typ != protowire.VarintType {
		return 0, wireTypeError(typ, protowire.VarintType)
	}
	v, n := protowire.ConsumeVarint(r.b)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) fixed64(typ protowire.Type) (uint64, error) {
	if typ != protowire.Fixed64Type {
		return 0, wireTypeError(typ, protowire.Fixed64Type)
	}
	v, n := protowire.ConsumeFixed64(r.b)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	r.b = r.b[n:]
	return v, nil
}

// bytes returns a length-delimited field's payload, capped so that appending to it cannot
// overwrite what follows.
func (r *reader) bytes(typ protowire.Type) ([]byte, error) {
	if typ != protowire.BytesType {
		return nil, wireTypeError(typ, protowire.BytesType)
	}
	v, n := protowire.ConsumeBytes(r.b)
	if n < 0 {
		return nil, protowire.ParseError(n)
	}
	r.b = r.b[n:]
	return v[:len(v):len(v)], nil
}

// skip passes over a field the decoder does not read, without looking inside it.
func (r *reader) skip(num protowire.Number, typ protowire.Type) error {
	if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
		return errGroup
	}
	n := protowire.ConsumeFieldValue(num, typ, r.b)
	if n < 0 {
		return protowire.ParseError(n)
	}
	r.b = r.b[n:]
	return nil
}

func wireTypeError(got, want protowire.Type) error {
	return fmt.Errorf("%w %d, want %d", errWireType, got, want)
}

// fieldError prefixes err with the message and field where it was found, so that the error
// reads as a path: "MetricFamily field 4: metric 2: Metric field 3: wrong wire type 0, want 2".
func fieldError(msg string, num protowire.Number, err error) error {
	return fmt.Errorf("%s field %d: %w", msg, num, err)
}
