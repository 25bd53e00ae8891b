package als

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc/mem"

	"github.com/edgetel/edgetel/internal/rawpb"
)

// rawMessage is a StreamAccessLogsMessage kept as the bytes it came in, so that the
// receiver gets the wire bytes from gRPC without proto.Unmarshal building the message (see
// rawpb.Message for why that is sound with gRPC-Go's default codec).
type rawMessage = rawpb.Message[*accesslogv3.StreamAccessLogsMessage]

// message is a StreamAccessLogsMessage as received. Under rawpb.Codec (the sink's own
// server), ReadWire keeps gRPC's receive buffers themselves, one per HTTP/2 frame, until
// the batch decoded from them is released: the decoder reads the entries where they lie
// (Decoder.DecodeSegments) and copies only one that straddles two frames, into Buf.
// Through any other codec, proto.Unmarshal copies the whole message into Buf.
type message struct {
	rawMessage
	held   mem.BufferSlice // referenced until release
	pieces [][]byte        // held's bytes
}

var _ rawpb.WireReader = (*message)(nil)

// ReadWire keeps data, taking the reference that encoding.CodecV2 asks of a codec that
// uses the buffers after it returns.
func (m *message) ReadWire(data mem.BufferSlice) error {
	m.release()
	data.Ref()
	m.held = data
	for _, b := range data {
		m.pieces = append(m.pieces, b.ReadOnlyData())
	}
	return nil
}

// decode decodes the message into b with d. Records view the message's memory until
// release.
func (m *message) decode(d *Decoder, b *Batch) error {
	if m.held == nil {
		return d.Decode(m.Buf, b)
	}
	return d.DecodeSegments(m.pieces, &m.Buf, b)
}

// size is the memory the message holds, for the queue's byte bound.
func (m *message) size() int { return len(m.Buf) + m.held.Len() }

// release gives gRPC's buffers back; the message's own memory is kept for reuse.
func (m *message) release() {
	if m.held != nil {
		m.held.Free()
		m.held = nil
	}
	clear(m.pieces)
	m.pieces = m.pieces[:0]
	m.Buf = m.Buf[:0]
}
