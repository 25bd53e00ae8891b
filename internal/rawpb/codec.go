package rawpb

import (
	"fmt"
	"slices"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// WireReader is a message that takes its wire bytes from gRPC's receive buffers itself,
// under Codec. It copies what it keeps, or takes its own reference to data (data.Ref) and
// frees it when it is done, as encoding.CodecV2 requires: gRPC frees data once ReadWire
// returns.
type WireReader interface {
	ReadWire(data mem.BufferSlice) error
}

var (
	_ WireReader       = (*Message[proto.Message])(nil)
	_ encoding.CodecV2 = codec{}
)

// Codec returns a gRPC codec for a server whose receivers keep messages as their bytes. A
// WireReader reads its message straight from gRPC's receive buffers (Message copies it
// once into memory it reuses; the access-log receiver's message holds the buffers); every other message goes to delegate: the codec registered for "proto" when
// nil, which is pdata's wrapper of gRPC's own once pdata is linked in. A server takes it
// with grpc.ForceServerCodecV2.
//
// Without it, Message works all the same through proto.Unmarshal (see Message), at the cost
// of a second copy and a clear: gRPC first gathers a message that spans HTTP/2 frames (a
// 16 KiB access-log batch spans two) into one buffer from its pool, which it clears, and
// Unmarshal then copies that.
func Codec(delegate encoding.CodecV2) (encoding.CodecV2, error) {
	if delegate == nil {
		if delegate = encoding.GetCodecV2(Name); delegate == nil {
			return nil, fmt.Errorf("rawpb: no %q codec registered to delegate to", Name)
		}
	}
	return codec{delegate}, nil
}

// Name is the codec's name: gRPC's content subtype for protobuf.
const Name = "proto"

type codec struct{ delegate encoding.CodecV2 }

func (c codec) Name() string { return Name }

func (c codec) Marshal(v any) (mem.BufferSlice, error) { return c.delegate.Marshal(v) }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(WireReader); ok {
		return r.ReadWire(data)
	}
	return c.delegate.Unmarshal(data, v)
}

// ReadWire replaces the message's bytes with data's, as Unmarshal would.
func (m *Message[T]) ReadWire(data mem.BufferSlice) error {
	m.Buf = CopyWire(m.Buf, data)
	return nil
}

// CopyWire copies data's bytes into dst's memory, grown when it is short, and returns them.
func CopyWire(dst []byte, data mem.BufferSlice) []byte {
	n := data.Len()
	dst = slices.Grow(dst[:0], n)[:n]
	data.CopyTo(dst)
	return dst
}
