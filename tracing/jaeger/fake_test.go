package jaeger

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
)

// fakeJaeger is an OTLP trace server on loopback that keeps what it is sent, and can be
// told to fail, or be stopped and started again on the same port.
type fakeJaeger struct {
	ptraceotlp.UnimplementedGRPCServer
	t    *testing.T
	addr string

	mu     sync.Mutex
	spans  []ptrace.Span // copies, with their resource's service.name in attribute "service"
	calls  int
	fail   func(call int) error // nil: accept
	server *grpc.Server
}

func startFake(t *testing.T) *fakeJaeger {
	t.Helper()
	f := &fakeJaeger{t: t, addr: "127.0.0.1:0"}
	f.start()
	t.Cleanup(f.stop)
	return f
}

func (f *fakeJaeger) start() {
	f.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port of a stopped server can take a moment to free
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	s := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(s, f)
	f.mu.Lock()
	f.server = s
	f.mu.Unlock()
	go func() { _ = s.Serve(ln) }()
}

func (f *fakeJaeger) stop() {
	f.mu.Lock()
	s := f.server
	f.server = nil
	f.mu.Unlock()
	if s != nil {
		s.Stop()
	}
}

func (f *fakeJaeger) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail(f.calls); err != nil {
			return ptraceotlp.NewExportResponse(), err
		}
	}
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		svc, _ := rss.At(i).Resource().Attributes().Get("service.name")
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				c := ptrace.NewSpan()
				spans.At(k).CopyTo(c)
				c.Attributes().PutStr("service", svc.AsString())
				f.spans = append(f.spans, c)
			}
		}
	}
	return ptraceotlp.NewExportResponse(), nil
}

func (f *fakeJaeger) received() []ptrace.Span {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ptrace.Span(nil), f.spans...)
}

func (f *fakeJaeger) setFail(fn func(call int) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
