package tracing

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// collector is a Consumer that keeps the request IDs it is given; gate, when not nil,
// holds each call until it is closed.
type collector struct {
	gate chan struct{}
	mu   sync.Mutex
	ids  []string
}

func (c *collector) ConsumeSpans(b *Batch) {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range b.Spans {
		c.ids = append(c.ids, s.RequestID)
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

// serve starts r on a gRPC server on loopback and returns a client of it, with the
// real OTLP client code of pdata.
func serve(t *testing.T, r *Receiver) (ptraceotlp.GRPCClient, *grpc.ClientConn) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	r.Register(srv)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ptraceotlp.NewGRPCClient(conn), conn
}

func newStarted(t *testing.T, cfg ReceiverConfig, c Consumer) *Receiver {
	t.Helper()
	r, err := NewReceiver(cfg, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSpansSentWithTheOTLPClientReachTheConsumer(t *testing.T) {
	c := &collector{}
	r := newStarted(t, ReceiverConfig{}, c)
	client, _ := serve(t, r)
	ctx := testContext(t)
	for range 4 {
		req, _ := envoyRequest(5)
		resp, err := client.Export(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if n := resp.PartialSuccess().RejectedSpans(); n != 0 {
			t.Errorf("%d spans rejected: %s", n, resp.PartialSuccess().ErrorMessage())
		}
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if c.count() != 20 || c.ids[0] != testRequestID(0) {
		t.Errorf("the consumer got %d spans (first %q), want 20", c.count(), c.ids[0])
	}
	if got := testutil.ToFloat64(r.tel.received); got != 20 {
		t.Errorf("edgetel_tracing_spans_received_total %v, want 20", got)
	}
}

// garbage is a request whose bytes are not a protobuf message; pdata's gRPC codec sends
// whatever MarshalProto writes.
type garbage struct{}

func (garbage) SizeProto() int                { return 3 }
func (garbage) MarshalProto(b []byte) int     { return copy(b, []byte{0x0a, 0xff, 0xff}) }
func (garbage) UnmarshalProto(b []byte) error { return nil }

func TestAMalformedRequestIsRefusedAndCountedAndTheReceiverGoesOn(t *testing.T) {
	c := &collector{}
	r := newStarted(t, ReceiverConfig{}, c)
	client, conn := serve(t, r)
	ctx := testContext(t)
	var resp garbage
	err := conn.Invoke(ctx, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", garbage{}, &resp)
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a malformed request: %v, want InvalidArgument", err)
	}
	if got := testutil.ToFloat64(r.tel.malformed); got != 1 {
		t.Errorf("edgetel_tracing_requests_malformed_total %v, want 1", got)
	}
	req, _ := envoyRequest(2)
	if _, err := client.Export(ctx, req); err != nil {
		t.Fatalf("the next request: %v", err)
	}
}

func TestAFullQueueDropsCountsAndTellsTheSenderWithoutMakingItWait(t *testing.T) {
	c := &collector{gate: make(chan struct{})}
	r := newStarted(t, ReceiverConfig{QueueRequests: 1}, c)
	client, _ := serve(t, r)
	ctx := testContext(t)
	rejected := 0
	const sends = 10
	for range sends { // the consumer is held: one request in its hands, one queued
		req, _ := envoyRequest(5)
		resp, err := client.Export(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		rejected += int(resp.PartialSuccess().RejectedSpans())
	}
	close(c.gate)
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	dropped := int(testutil.ToFloat64(r.tel.droppedQueueFull))
	if dropped < 5*(sends-2) || dropped != rejected {
		t.Errorf("%d spans dropped, %d reported rejected; want the same, at least %d", dropped, rejected, 5*(sends-2))
	}
	if got := c.count() + dropped; got != 5*sends {
		t.Errorf("consumed + dropped = %d, sent %d", got, 5*sends)
	}
}

func TestARequestToAStoppedReceiverIsUnavailableAndCounted(t *testing.T) {
	r, err := NewReceiver(ReceiverConfig{}, &collector{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := serve(t, r)
	req, _ := envoyRequest(3)
	if _, err := client.Export(testContext(t), req); status.Code(err) != codes.Unavailable {
		t.Errorf("before Start: %v, want Unavailable", err)
	}
	if got := testutil.ToFloat64(r.tel.droppedNotRunning); got != 3 {
		t.Errorf("edgetel_tracing_spans_dropped_total{reason=not_running} %v, want 3", got)
	}
}

func TestAReceiverStartsAgainAfterShutdownAndShutdownIsSafeTwice(t *testing.T) {
	c := &collector{}
	r, err := NewReceiver(ReceiverConfig{}, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown without Start: %v", err)
	}
	client, _ := serve(t, r)
	for i := range 2 {
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != ErrAlreadyStarted {
			t.Errorf("a second Start: %v", err)
		}
		req, _ := envoyRequest(1)
		if _, err := client.Export(ctx, req); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		for range 2 {
			if err := r.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c.count() != 2 {
		t.Errorf("%d spans consumed over two runs, want 2", c.count())
	}
}

func TestANilConsumerIsRefused(t *testing.T) {
	if _, err := NewReceiver(ReceiverConfig{}, nil, nil); err == nil {
		t.Error("no error")
	}
}
