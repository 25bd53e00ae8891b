package als

import (
	"sync/atomic"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/internal/rawpb"
)

// countingPool is the sink's buffer pool, counting the buffers it has lent. It scribbles
// over every buffer it lends, its whole capacity: rawpb.Pool does not clear them, and
// nothing gRPC or the receiver reads may be what an earlier message left there.
type countingPool struct {
	mem.BufferPool
	out atomic.Int64
}

func (p *countingPool) Get(n int) *[]byte {
	p.out.Add(1)
	b := p.BufferPool.Get(n)
	for i := range (*b)[:cap(*b)] {
		(*b)[:cap(*b)][i] = 0xa5
	}
	return b
}
func (p *countingPool) Put(b *[]byte) { p.out.Add(-1); p.BufferPool.Put(b) }

// TestReceiverUnderTheRawCodecDecodesMessagesAcrossFrames runs the receiver as the sink does,
// under rawpb.Codec, where it holds gRPC's receive buffers instead of copying them: messages
// of one, two and many HTTP/2 frames, a malformed one and a tcp_logs one (decoded from a
// copy) all arrive whole from buffers never cleared, and every buffer goes back to the pool.
func TestReceiverUnderTheRawCodecDecodesMessagesAcrossFrames(t *testing.T) {
	codec, err := rawpb.Codec(nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := &countingPool{BufferPool: rawpb.NewPool()}
	c := &collector{}
	r := newStartedReceiver(t, ReceiverConfig{}, c)
	client := serve(t, r, grpc.ForceServerCodecV2(codec), experimental.BufferPool(pool))

	small := httpMessage(identity("edge-1", "access"), realisticEntry(0))
	var batch, large []byte
	batch = envoyBatch(t) // ~16 KiB: two frames
	big := httpMessage(nil)
	for i := 0; proto.Size(big) < 100<<10; i++ { // seven frames
		big.GetHttpLogs().LogEntry = append(big.GetHttpLogs().LogEntry, realisticEntry(i))
	}
	large = mustMarshal(t, big)
	msgs := []any{small, batch, []byte{0x12, 0xff}, tcpMessage(3), large, batch}
	if err := send(t, client, msgs...); err != nil {
		t.Fatalf("stream ended with %v, want OK", err)
	}

	var expected []Record
	for _, m := range msgs {
		wire, ok := m.([]byte)
		if !ok {
			wire = mustMarshal(t, m.(proto.Message))
		}
		var msg accesslogv3.StreamAccessLogsMessage
		if proto.Unmarshal(wire, &msg) == nil {
			expected = append(expected, expect(&msg, []byte("edge-1"), []byte("edge"), []byte("access")).Records...)
		}
	}
	eventually(t, "every record arrives", func() bool { return len(c.got()) >= len(expected) })
	if d := diff(want{Records: expected}, want{Records: c.got()}); d != "" {
		t.Errorf("consumed records differ (-want +got):\n%s", d)
	}
	eventually(t, "the stream is closed", func() bool { return testutil.ToFloat64(r.tel.streamsOpen) == 0 })
	eventually(t, "gRPC has every buffer back", func() bool { return pool.out.Load() <= 0 })
}
