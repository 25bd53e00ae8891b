package rawpb

import (
	"bytes"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// frames splits b as gRPC hands a message over: one buffer per HTTP/2 frame's worth.
func frames(b []byte, size int) mem.BufferSlice {
	var s mem.BufferSlice
	for len(b) > 0 {
		n := min(size, len(b))
		s = append(s, mem.SliceBuffer(b[:n]))
		b = b[n:]
	}
	return s
}

func TestTheCodecGivesARawMessageItsBytesAcrossFramesAndReusesItsMemory(t *testing.T) {
	c, err := Codec(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789abcdef"), 2048) // 32 KiB: three frames
	var m Message[*accesslogv3.StreamAccessLogsMessage]
	if err := c.Unmarshal(frames(want, 16<<10), &m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Buf, want) {
		t.Fatalf("got %d bytes, want the %d sent", len(m.Buf), len(want))
	}
	first := &m.Buf[0]
	if err := c.Unmarshal(frames(want[:100], 16<<10), &m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Buf, want[:100]) || &m.Buf[0] != first {
		t.Errorf("a shorter message: %q in new memory %v, want its bytes in the same memory", m.Buf, &m.Buf[0] != first)
	}
}

func TestTheCodecHandsEveryOtherMessageToItsDelegate(t *testing.T) {
	c, err := Codec(nil)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := proto.Marshal(wrapperspb.String("hello"))
	if err != nil {
		t.Fatal(err)
	}
	var got wrapperspb.StringValue
	if err := c.Unmarshal(frames(wire, 3), &got); err != nil || got.GetValue() != "hello" {
		t.Errorf("a generated message: %q, %v; want it decoded", got.GetValue(), err)
	}
	out, err := c.Marshal(&got)
	if err != nil || !bytes.Equal(out.Materialize(), wire) {
		t.Errorf("Marshal: %x, %v; want %x", out.Materialize(), err, wire)
	}
	if c.Name() != "proto" {
		t.Errorf("Name %q, want proto", c.Name())
	}
}
