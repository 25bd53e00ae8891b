package als

import (
	"bytes"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestRawMessageThroughProto checks that generic protobuf code treats a rawMessage as a
// message whose every byte is an unknown field, as its doc says.
func TestRawMessageThroughProto(t *testing.T) {
	first := mustMarshal(t, httpMessage(identity("edge-1", "access"), realisticEntry(0)))
	second := mustMarshal(t, httpMessage(nil, realisticEntry(1)))

	t.Run("proto.Unmarshal copies, so gRPC may reuse its buffer", func(t *testing.T) {
		in := bytes.Clone(first)
		var m rawMessage
		if err := proto.Unmarshal(in, &m); err != nil {
			t.Fatal(err)
		}
		clear(in)
		if !bytes.Equal(m.Buf, first) {
			t.Error("the message changed with the buffer it was unmarshalled from")
		}
	})
	t.Run("proto.Unmarshal into a used message replaces its bytes without allocating", func(t *testing.T) {
		m := rawMessage{Buf: make([]byte, 0, len(first)+len(second))}
		allocs := testing.AllocsPerRun(100, func() {
			if err := proto.Unmarshal(second, &m); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 || !bytes.Equal(m.Buf, second) {
			t.Errorf("got %d bytes with %v allocations, want the second message with none", len(m.Buf), allocs)
		}
	})
	t.Run("proto.UnmarshalOptions with DiscardUnknown keeps every byte", func(t *testing.T) {
		var m rawMessage
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(first, &m); err != nil || !bytes.Equal(m.Buf, first) {
			t.Errorf("got %v, %d bytes", err, len(m.Buf))
		}
	})
	t.Run("proto.Marshal and proto.Size give the bytes unchanged", func(t *testing.T) {
		m := &rawMessage{Buf: first}
		if got := mustMarshal(t, m); !bytes.Equal(got, first) || proto.Size(m) != len(first) {
			t.Errorf("marshalled %d bytes, size %d, want %d", len(got), proto.Size(m), len(first))
		}
	})
	t.Run("proto.Merge is concatenation, which merges as protobuf does", func(t *testing.T) {
		m := &rawMessage{Buf: bytes.Clone(first)}
		proto.Merge(m, &rawMessage{Buf: second})
		var want accesslogv3.StreamAccessLogsMessage
		proto.Unmarshal(first, &want)
		(proto.UnmarshalOptions{Merge: true}).Unmarshal(second, &want)
		if d := diff(expect(&want, nil, nil, nil), got(decodeOne(t, m.Buf, huge))); d != "" {
			t.Errorf("merged message differs (-want +got):\n%s", d)
		}
	})
	t.Run("proto.Clone and proto.Equal see the bytes", func(t *testing.T) {
		m := &rawMessage{Buf: first}
		c := proto.Clone(m)
		if !proto.Equal(m, c) || proto.Equal(m, &rawMessage{Buf: second}) {
			t.Error("Clone or Equal does not follow the bytes")
		}
	})
	t.Run("reflection names the message and shows no known field", func(t *testing.T) {
		m := (&rawMessage{Buf: first}).ProtoReflect()
		want := (&accesslogv3.StreamAccessLogsMessage{}).ProtoReflect().Descriptor().FullName()
		fields := 0
		m.Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool { fields++; return true })
		identifier := m.Descriptor().Fields().ByName("identifier")
		if m.Descriptor().FullName() != want || fields != 0 || m.Has(identifier) || m.Get(identifier).Message().IsValid() {
			t.Errorf("reflection: %s, %d fields", m.Descriptor().FullName(), fields)
		}
	})
}

// TestRawMessageThroughGRPCCodec runs the codec that a gRPC server uses by default for
// every service, and checks that it hands a rawMessage the bytes of the message.
func TestRawMessageThroughGRPCCodec(t *testing.T) {
	codec := encoding.GetCodecV2("proto")
	wire := mustMarshal(t, httpMessage(identity("edge-1", "access"), realisticEntry(0)))
	// Split across two buffers, as a message read in two frames arrives.
	in := mem.BufferSlice{mem.SliceBuffer(wire[:100]), mem.SliceBuffer(wire[100:])}
	var m rawMessage
	if err := codec.Unmarshal(in, &m); err != nil || !bytes.Equal(m.Buf, wire) {
		t.Fatalf("Unmarshal: %v, %d bytes of %d", err, len(m.Buf), len(wire))
	}
	out, err := codec.Marshal(&m)
	if err != nil || !bytes.Equal(out.Materialize(), wire) {
		t.Errorf("Marshal: %v", err)
	}
	out.Free()
}
