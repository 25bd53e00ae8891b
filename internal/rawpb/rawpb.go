// Package rawpb receives a gRPC message as its wire bytes, without unmarshalling it, so that
// a receiver can decode only the fields it needs straight from the wire (the access-log and
// metrics-service receivers do).
package rawpb

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoiface"
)

// Message is a T (a generated message type, such as *StreamAccessLogsMessage) kept as the
// bytes it came in.
//
// gRPC-Go's default codec (encoding/proto) accepts any proto.Message and calls
// proto.Unmarshal, which hands the bytes to the message's own fast-path Unmarshal when it
// has one (ProtoMethods). Message's fast path only copies the bytes. This keeps the server's
// codec untouched for every other service on the same port, needs no global codec
// registration and no content-subtype (Envoy sends plain application/grpc), and works with
// the generated service registration: the receiver calls stream.RecvMsg(&raw) instead of
// stream.Recv().
//
// The copy is needed: the codec returns its receive buffer to a pool as soon as Unmarshal
// returns. It is one memmove per message into a buffer that the receiver reuses.
//
// Through protoreflect, the message has no fields set and all of its bytes are unknown
// fields. That is true to what it holds, and it keeps generic code (proto.Size,
// proto.Marshal, proto.Equal, interceptors that log sizes) correct on it: marshalling one
// yields its bytes unchanged, which is also how tests send malformed messages.
type Message[T proto.Message] struct {
	// Buf holds the message's wire bytes; Reset keeps its capacity.
	Buf []byte
}

// ProtoReflect implements proto.Message without allocating.
func (m *Message[T]) ProtoReflect() protoreflect.Message { return (*view[T])(m) }

// Reset empties the message, keeping its buffer. proto.Unmarshal calls it first.
func (m *Message[T]) Reset() { m.Buf = m.Buf[:0] }

// buffer is what the shared fast-path methods need of any view.
type buffer interface{ buf() *[]byte }

var methods = protoiface.Methods{
	Flags: protoiface.SupportMarshalDeterministic | protoiface.SupportUnmarshalDiscardUnknown,
	Size: func(in protoiface.SizeInput) protoiface.SizeOutput {
		return protoiface.SizeOutput{Size: len(*in.Message.(buffer).buf())}
	},
	Marshal: func(in protoiface.MarshalInput) (protoiface.MarshalOutput, error) {
		return protoiface.MarshalOutput{Buf: append(in.Buf, *in.Message.(buffer).buf()...)}, nil
	},
	// Unmarshal merges, as the contract says: merging two encodings of a message is
	// parsing their concatenation. DiscardUnknown is ignored, since every field is unknown
	// here and discarding them all would defeat the type.
	Unmarshal: func(in protoiface.UnmarshalInput) (protoiface.UnmarshalOutput, error) {
		b := in.Message.(buffer).buf()
		*b = append(*b, in.Buf...)
		return protoiface.UnmarshalOutput{Flags: protoiface.UnmarshalInitialized}, nil
	},
}

// view is Message's protoreflect.Message view.
type view[T proto.Message] Message[T]

var _ protoreflect.Message = (*view[proto.Message])(nil)

// empty answers field reads: a nil generated message returns each field's default.
func empty[T proto.Message]() protoreflect.Message {
	var zero T
	return zero.ProtoReflect()
}

func (m *view[T]) buf() *[]byte                               { return &m.Buf }
func (m *view[T]) Descriptor() protoreflect.MessageDescriptor { return empty[T]().Descriptor() }
func (m *view[T]) Type() protoreflect.MessageType             { return msgType[T]{} }
func (m *view[T]) New() protoreflect.Message                  { return new(view[T]) }
func (m *view[T]) Interface() protoreflect.ProtoMessage       { return (*Message[T])(m) }
func (m *view[T]) Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool) {
}
func (m *view[T]) Has(protoreflect.FieldDescriptor) bool { return false }
func (m *view[T]) Clear(protoreflect.FieldDescriptor)    {} // no field is ever set
func (m *view[T]) Get(fd protoreflect.FieldDescriptor) protoreflect.Value {
	return empty[T]().Get(fd)
}
func (m *view[T]) NewField(fd protoreflect.FieldDescriptor) protoreflect.Value {
	return empty[T]().NewField(fd)
}
func (m *view[T]) WhichOneof(protoreflect.OneofDescriptor) protoreflect.FieldDescriptor {
	return nil
}
func (m *view[T]) SetUnknown(b protoreflect.RawFields) { m.Buf = b }
func (m *view[T]) IsValid() bool                       { return m != nil }
func (m *view[T]) ProtoMethods() *protoiface.Methods   { return &methods }
func (m *view[T]) GetUnknown() protoreflect.RawFields {
	if m == nil { // the type's Zero message
		return nil
	}
	return m.Buf
}

// Set and Mutable would need the fields decoded; the raw form has none to set.
func (m *view[T]) Set(protoreflect.FieldDescriptor, protoreflect.Value) {
	panic("rawpb: a raw message has no settable fields")
}
func (m *view[T]) Mutable(protoreflect.FieldDescriptor) protoreflect.Value {
	panic("rawpb: a raw message has no settable fields")
}

// msgType is Message's protoreflect.MessageType.
type msgType[T proto.Message] struct{}

func (msgType[T]) New() protoreflect.Message                  { return new(view[T]) }
func (msgType[T]) Zero() protoreflect.Message                 { return (*view[T])(nil) }
func (msgType[T]) Descriptor() protoreflect.MessageDescriptor { return empty[T]().Descriptor() }
