package sim

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeALS is an access-log service on loopback that keeps every message it reads, decoded
// by the generated server code (gRPC's proto codec, proto.Unmarshal).
type fakeALS struct {
	alsv3.UnimplementedAccessLogServiceServer
	addr string

	// breakFirstAfter, when positive, ends the first stream with an error after it has read
	// that many messages.
	breakFirstAfter int

	mu      sync.Mutex
	streams []*fakeStream
}

type fakeStream struct {
	msgs []received
}

type received struct {
	at  time.Time
	msg *alsv3.StreamAccessLogsMessage
}

func startFakeALS(t testing.TB, breakFirstAfter int) *fakeALS {
	t.Helper()
	return startFakeALSAt(t, "127.0.0.1:0", breakFirstAfter)
}

func startFakeALSAt(t testing.TB, addr string, breakFirstAfter int) *fakeALS {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeALS{addr: lis.Addr().String(), breakFirstAfter: breakFirstAfter}
	srv := grpc.NewServer()
	alsv3.RegisterAccessLogServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return f
}

var errBroken = status.Error(codes.Unavailable, "fake sink: stream broken on purpose")

func (f *fakeALS) StreamAccessLogs(stream grpc.ClientStreamingServer[alsv3.StreamAccessLogsMessage, alsv3.StreamAccessLogsResponse]) error {
	s := &fakeStream{}
	f.mu.Lock()
	f.streams = append(f.streams, s)
	first := len(f.streams) == 1
	f.mu.Unlock()
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&alsv3.StreamAccessLogsResponse{})
		}
		if err != nil {
			return err
		}
		f.mu.Lock()
		s.msgs = append(s.msgs, received{at: time.Now(), msg: msg})
		n := len(s.msgs)
		f.mu.Unlock()
		if first && n == f.breakFirstAfter {
			return errBroken
		}
	}
}

// snapshot returns the streams read so far: for each, its messages.
func (f *fakeALS) snapshot() [][]received {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([][]received, len(f.streams))
	for i, s := range f.streams {
		out[i] = append([]received(nil), s.msgs...)
	}
	return out
}

// byNode groups the streams by the node their identifier names.
func byNode(t testing.TB, streams [][]received) map[string][][]received {
	t.Helper()
	out := map[string][][]received{}
	for i, s := range streams {
		if len(s) == 0 {
			continue
		}
		id := s[0].msg.GetIdentifier()
		if id == nil {
			t.Fatalf("stream %d: the first message has no identifier", i)
		}
		out[id.GetNode().GetId()] = append(out[id.GetNode().GetId()], s)
	}
	return out
}

func entryCount(streams [][]received) int {
	n := 0
	for _, s := range streams {
		for _, m := range s {
			n += len(m.msg.GetHttpLogs().GetLogEntry())
		}
	}
	return n
}
