package sim

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeALS is a sink on loopback that keeps every message it reads, decoded by the
// generated server code (gRPC's proto codec, proto.Unmarshal): access logs, and, as the
// sink does on its one port, the metrics service and OTLP traces and logs.
type fakeALS struct {
	alsv3.UnimplementedAccessLogServiceServer
	addr    string
	metrics *fakeMetricsService
	otlp    *fakeOTLP

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
	f := &fakeALS{addr: lis.Addr().String(), breakFirstAfter: breakFirstAfter,
		metrics: &fakeMetricsService{}, otlp: &fakeOTLP{}}
	srv := grpc.NewServer()
	alsv3.RegisterAccessLogServiceServer(srv, f)
	metricsv3.RegisterMetricsServiceServer(srv, f.metrics)
	ptraceotlp.RegisterGRPCServer(srv, &fakeTraces{f: f.otlp})
	plogotlp.RegisterGRPCServer(srv, &fakeLogs{f: f.otlp})
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

// fakeOTLP keeps the spans and log records of every Export it takes.
type fakeOTLP struct {
	mu    sync.Mutex
	spans []ptrace.Span
	logs  []plog.ResourceLogs
}

type fakeTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	f *fakeOTLP
}

func (s *fakeTraces) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	rss := req.Traces().ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				s.f.spans = append(s.f.spans, spans.At(k))
			}
		}
	}
	return ptraceotlp.NewExportResponse(), nil
}

type fakeLogs struct {
	plogotlp.UnimplementedGRPCServer
	f *fakeOTLP
}

func (s *fakeLogs) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	rls := req.Logs().ResourceLogs()
	for i := range rls.Len() {
		s.f.logs = append(s.f.logs, rls.At(i))
	}
	return plogotlp.NewExportResponse(), nil
}

// statsReceived sums the deltas the metrics service read, by cluster then stat name.
func (f *fakeMetricsService) statsReceived() map[string]map[string]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]map[string]uint64{}
	for _, s := range f.streams {
		for _, m := range s {
			for _, fam := range m.GetEnvoyMetrics() {
				for _, mt := range fam.GetMetric() {
					cluster := mt.GetLabel()[0].GetValue()
					if out[cluster] == nil {
						out[cluster] = map[string]uint64{}
					}
					out[cluster][fam.GetName()] += uint64(mt.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

// streamsRead returns the messages of every stream the metrics service read.
func (f *fakeMetricsService) streamsRead() [][]*metricsv3.StreamMetricsMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]*metricsv3.StreamMetricsMessage(nil), f.streams...)
}

// spansRead returns the spans the OTLP service read.
func (f *fakeOTLP) spansRead() []ptrace.Span {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ptrace.Span(nil), f.spans...)
}
