package als

import (
	"runtime"
	"testing"

	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the codec the gRPC server uses
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// flushBytes is Envoy's default access-log buffer (buffer_size_bytes): it sends a message
// when this much is buffered.
const flushBytes = 16 << 10

// envoyFlush is one message as Envoy flushes it: realistic entries (about 540 bytes each)
// up to flushBytes. It returns the message and its number of entries.
func envoyFlush(tb testing.TB) ([]byte, int) {
	var entries []*datav3.HTTPAccessLogEntry
	for i := 0; ; i++ {
		next := append(entries, realisticEntry(i))
		if proto.Size(httpMessage(nil, next...)) > flushBytes {
			break
		}
		entries = next
	}
	return mustMarshal(tb, httpMessage(nil, entries...)), len(entries)
}

// benchEntries runs decode once per iteration over a flushed message and reports
// entries/s and allocs/entry beside the per-message figures. entries/cpu-s divides by the
// CPU time the process used instead of wall time: with GOMAXPROCS=1 it is the rate on one
// core that is not shared, when the machine is (see cpuTime).
func benchEntries(b *testing.B, decode func(wire []byte) error) {
	wire, n := envoyFlush(b)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := cpuTime()
	for b.Loop() {
		if err := decode(wire); err != nil {
			b.Fatal(err)
		}
	}
	cpu = cpuTime() - cpu
	runtime.ReadMemStats(&after)
	entries := float64(b.N) * float64(n)
	b.ReportMetric(entries/b.Elapsed().Seconds(), "entries/s")
	if cpu > 0 {
		b.ReportMetric(entries/cpu.Seconds(), "entries/cpu-s")
	}
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/entries, "allocs/entry")
	b.ReportMetric(float64(n), "entries/msg")
}

// BenchmarkDecode is the decoder alone, into a reused batch.
func BenchmarkDecode(b *testing.B) {
	d, batch := NewDecoder(DefaultLimits()), &Batch{}
	benchEntries(b, func(wire []byte) error { return d.Decode(wire, batch) })
}

// BenchmarkProtoUnmarshal is what the decoder replaces: proto.Unmarshal of the same
// message into a reused message, before any field is read.
func BenchmarkProtoUnmarshal(b *testing.B) {
	var m accesslogv3.StreamAccessLogsMessage
	benchEntries(b, func(wire []byte) error { return proto.Unmarshal(wire, &m) })
}

// BenchmarkReceive is the receiver's path from gRPC's buffer: the default codec hands the
// bytes to rawMessage, which copies them, then the decoder runs.
func BenchmarkReceive(b *testing.B) {
	codec := encoding.GetCodecV2("proto")
	d, raw, batch := NewDecoder(DefaultLimits()), &rawMessage{}, &Batch{}
	benchEntries(b, func(wire []byte) error {
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, raw); err != nil {
			return err
		}
		return d.Decode(raw.Buf, batch)
	})
}

// BenchmarkReceiveProto is the same path with the generated message, as
// stream.Recv() would take it.
func BenchmarkReceiveProto(b *testing.B) {
	codec := encoding.GetCodecV2("proto")
	var m accesslogv3.StreamAccessLogsMessage
	benchEntries(b, func(wire []byte) error {
		return codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, &m)
	})
}

// framed splits wire as gRPC's receive buffers hold it: one buffer per HTTP/2 frame of at
// most 16 KiB, the first one short by the message's 5-byte gRPC header.
func framed(wire []byte) mem.BufferSlice {
	var bs mem.BufferSlice
	for n := 16384 - 5; len(wire) > 0; n = 16384 {
		n = min(n, len(wire))
		bs = append(bs, mem.SliceBuffer(wire[:n]))
		wire = wire[n:]
	}
	return bs
}

// BenchmarkReceiveRawCodec is the receiver's path under the sink's codec (rawpb.Codec):
// the message holds the frames and the decoder reads the entries where they lie, copying
// the one across the frame boundary.
func BenchmarkReceiveRawCodec(b *testing.B) {
	d, m, batch := NewDecoder(DefaultLimits()), &message{}, &Batch{}
	benchEntries(b, func(wire []byte) error {
		if err := m.ReadWire(framed(wire)); err != nil {
			return err
		}
		err := m.decode(d, batch)
		m.release()
		return err
	})
}

// BenchmarkReceiveRawCodecCopy is the same frames copied into one buffer first, as
// rawpb.Message does: what holding the frames saves.
func BenchmarkReceiveRawCodecCopy(b *testing.B) {
	d, raw, batch := NewDecoder(DefaultLimits()), &rawMessage{}, &Batch{}
	benchEntries(b, func(wire []byte) error {
		if err := raw.ReadWire(framed(wire)); err != nil {
			return err
		}
		return d.Decode(raw.Buf, batch)
	})
}
