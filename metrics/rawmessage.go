package metrics

import (
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoiface"
)

// rawMessage is a StreamMetricsMessage kept as the bytes it came in, so that the receiver
// gets the wire bytes from gRPC without proto.Unmarshal building the message: Envoy sends
// one MetricFamily per stat it has, tens of thousands on a large Envoy, of which edgetel
// keeps a few per cluster. Building them all every flush would be most of the sink's
// allocation for nothing.
//
// It is the access-log receiver's technique (see package als, rawMessage, for why it is
// sound with gRPC-Go's default codec): the type's fast-path Unmarshal only copies the bytes,
// and the receiver calls stream.RecvMsg(&raw) instead of stream.Recv(). The server's codec
// stays as it is for every other service on the port.
//
// Through protoreflect, the message has no fields set and all of its bytes are unknown
// fields. That is true to what it holds, and it keeps generic code (proto.Size,
// proto.Marshal, proto.Equal, interceptors that log sizes) correct on it: marshalling one
// yields its bytes unchanged, which is also how tests send malformed messages.
type rawMessage struct {
	buf []byte
}

var _ proto.Message = (*rawMessage)(nil)

// ProtoReflect implements proto.Message without allocating.
func (m *rawMessage) ProtoReflect() protoreflect.Message { return (*rawReflect)(m) }

// Reset empties the message, keeping its buffer. proto.Unmarshal calls it first.
func (m *rawMessage) Reset() { m.buf = m.buf[:0] }

// rawDescriptor is the descriptor rawMessage reports: it stands for that message.
var rawDescriptor = (*metricsv3.StreamMetricsMessage)(nil).ProtoReflect().Descriptor()

// rawEmpty answers field reads: a nil generated message returns each field's default.
var rawEmpty = (*metricsv3.StreamMetricsMessage)(nil).ProtoReflect()

var rawMethods = protoiface.Methods{
	Flags: protoiface.SupportMarshalDeterministic | protoiface.SupportUnmarshalDiscardUnknown,
	Size: func(in protoiface.SizeInput) protoiface.SizeOutput {
		return protoiface.SizeOutput{Size: len(in.Message.(*rawReflect).buf)}
	},
	Marshal: func(in protoiface.MarshalInput) (protoiface.MarshalOutput, error) {
		return protoiface.MarshalOutput{Buf: append(in.Buf, in.Message.(*rawReflect).buf...)}, nil
	},
	// Unmarshal merges, as the contract says: merging two encodings of a message is
	// parsing their concatenation. DiscardUnknown is ignored, since every field is unknown
	// here and discarding them all would defeat the type.
	Unmarshal: func(in protoiface.UnmarshalInput) (protoiface.UnmarshalOutput, error) {
		m := in.Message.(*rawReflect)
		m.buf = append(m.buf, in.Buf...)
		return protoiface.UnmarshalOutput{Flags: protoiface.UnmarshalInitialized}, nil
	},
}

// rawReflect is rawMessage's protoreflect.Message view.
type rawReflect rawMessage

var _ protoreflect.Message = (*rawReflect)(nil)

func (m *rawReflect) Descriptor() protoreflect.MessageDescriptor { return rawDescriptor }
func (m *rawReflect) Type() protoreflect.MessageType             { return rawType{} }
func (m *rawReflect) New() protoreflect.Message                  { return new(rawReflect) }
func (m *rawReflect) Interface() protoreflect.ProtoMessage       { return (*rawMessage)(m) }
func (m *rawReflect) Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool) {
}
func (m *rawReflect) Has(protoreflect.FieldDescriptor) bool { return false }
func (m *rawReflect) Clear(protoreflect.FieldDescriptor)    {} // no field is ever set
func (m *rawReflect) Get(fd protoreflect.FieldDescriptor) protoreflect.Value {
	return rawEmpty.Get(fd)
}
func (m *rawReflect) NewField(fd protoreflect.FieldDescriptor) protoreflect.Value {
	return rawEmpty.NewField(fd)
}
func (m *rawReflect) WhichOneof(protoreflect.OneofDescriptor) protoreflect.FieldDescriptor {
	return nil
}
func (m *rawReflect) SetUnknown(b protoreflect.RawFields) { m.buf = b }
func (m *rawReflect) IsValid() bool                       { return m != nil }
func (m *rawReflect) ProtoMethods() *protoiface.Methods   { return &rawMethods }
func (m *rawReflect) GetUnknown() protoreflect.RawFields {
	if m == nil { // the type's Zero message
		return nil
	}
	return m.buf
}

// Set and Mutable would need the fields decoded; the raw form has none to set.
func (m *rawReflect) Set(protoreflect.FieldDescriptor, protoreflect.Value) {
	panic("metrics: a raw metrics-service message has no settable fields")
}
func (m *rawReflect) Mutable(protoreflect.FieldDescriptor) protoreflect.Value {
	panic("metrics: a raw metrics-service message has no settable fields")
}

// rawType is rawMessage's protoreflect.MessageType.
type rawType struct{}

func (rawType) New() protoreflect.Message                  { return new(rawReflect) }
func (rawType) Zero() protoreflect.Message                 { return (*rawReflect)(nil) }
func (rawType) Descriptor() protoreflect.MessageDescriptor { return rawDescriptor }
