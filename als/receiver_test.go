package als

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// collector is a Consumer that keeps copies of what it is given. While gate is set, each
// call waits for it: a consumer that has fallen behind.
type collector struct {
	mu      sync.Mutex
	records []Record
	gate    chan struct{}
}

func (c *collector) ConsumeRecords(batch []Record) {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range batch {
		c.records = append(c.records, batch[i].Clone())
	}
}

func (c *collector) got() []Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.records)
}

// serve runs r on a real gRPC server on a loopback port and returns a generated client.
func serve(t *testing.T, r *Receiver, opts ...grpc.ServerOption) accesslogv3.AccessLogServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	accesslogv3.RegisterAccessLogServiceServer(srv, r)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return accesslogv3.NewAccessLogServiceClient(conn)
}

func newStartedReceiver(t *testing.T, cfg ReceiverConfig, next Consumer) *Receiver {
	t.Helper()
	r, err := NewReceiver(cfg, next, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

// send sends each message on a new stream, then closes it, as Envoy would if it stopped.
// A []byte is sent as it is, through rawMessage: the client's codec then writes those
// bytes unchanged, which is how a malformed message reaches the server.
func send(t *testing.T, client accesslogv3.AccessLogServiceClient, msgs ...any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if raw, ok := m.([]byte); ok {
			m = &rawMessage{Buf: raw}
		}
		if err := stream.SendMsg(m); err != nil {
			break // the server ended the stream; CloseAndRecv says why
		}
	}
	_, err = stream.CloseAndRecv()
	return err
}

// eventually polls cond for up to five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// metrics compares the receiver's metrics whose names are given with want, in the text
// exposition format.
func metrics(r *Receiver, want string, names ...string) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(r); err != nil {
		return err
	}
	return testutil.GatherAndCompare(reg, strings.NewReader(want), names...)
}

func TestReceiverDeliversStreamRecords(t *testing.T) {
	c := &collector{}
	r := newStartedReceiver(t, ReceiverConfig{}, c)
	first := httpMessage(identity("edge-1", "access"), realisticEntry(0), realisticEntry(1))
	second := httpMessage(nil, realisticEntry(2))
	if err := send(t, serve(t, r), first, second, tcpMessage(2)); err != nil {
		t.Fatalf("stream ended with %v, want OK", err)
	}
	eventually(t, "3 records arrive", func() bool { return len(c.got()) == 3 })
	records := append(expect(first, nil, nil, nil).Records, expect(second, []byte("edge-1"), []byte("edge"), []byte("access")).Records...)
	if d := diff(want{Records: records}, want{Records: c.got()}); d != "" {
		t.Errorf("consumed records differ (-want +got):\n%s", d)
	}
	eventually(t, "the stream is closed", func() bool { return testutil.ToFloat64(r.tel.streamsOpen) == 0 })
	err := metrics(r, `
# HELP edgetel_als_entries_received_total Access-log entries received from Envoy, by protocol; HTTP entries include those then dropped.
# TYPE edgetel_als_entries_received_total counter
edgetel_als_entries_received_total{protocol="http"} 3
edgetel_als_entries_received_total{protocol="tcp"} 2
# HELP edgetel_als_messages_received_total StreamAccessLogs messages received.
# TYPE edgetel_als_messages_received_total counter
edgetel_als_messages_received_total 3
# HELP edgetel_als_streams_open Access-log streams open now.
# TYPE edgetel_als_streams_open gauge
edgetel_als_streams_open 0
# HELP edgetel_als_streams_total Access-log streams opened by Envoy.
# TYPE edgetel_als_streams_total counter
edgetel_als_streams_total 1
`, "edgetel_als_entries_received_total", "edgetel_als_messages_received_total",
		"edgetel_als_streams_open", "edgetel_als_streams_total")
	if err != nil {
		t.Error(err)
	}
}

// TestReceiverSkipsMalformedMessage sends a message that is not protobuf between two good
// ones. The receiver counts it and goes on with the stream, identity kept: gRPC framed the
// message on its own, so nothing after it is out of step.
func TestReceiverSkipsMalformedMessage(t *testing.T) {
	c := &collector{}
	r := newStartedReceiver(t, ReceiverConfig{}, c)
	first := httpMessage(identity("edge-1", "access"), realisticEntry(0))
	last := httpMessage(nil, realisticEntry(1))
	garbage := []byte("\x12\xff\xff\x03not protobuf")
	if err := send(t, serve(t, r), first, garbage, last); err != nil {
		t.Fatalf("stream ended with %v, want OK: a malformed message does not end it", err)
	}
	eventually(t, "2 records arrive", func() bool { return len(c.got()) == 2 })
	if got := c.got()[1]; string(got.Node) != "edge-1" {
		t.Errorf("the record after the malformed message has node %q, want edge-1", got.Node)
	}
	if got := testutil.ToFloat64(r.tel.malformed); got != 1 {
		t.Errorf("counted %v malformed messages, want 1", got)
	}
}

// TestReceiverNeverMakesEnvoyWait blocks the consumer: the stream must still be read to
// its end, and what did not fit in the queue must be counted as dropped.
func TestReceiverNeverMakesEnvoyWait(t *testing.T) {
	c := &collector{gate: make(chan struct{})}
	r := newStartedReceiver(t, ReceiverConfig{QueueBatches: 1}, c)
	const messages, perMessage = 6, 3
	var msgs []any
	for i := range messages {
		msgs = append(msgs, httpMessage(nil, realisticEntry(3*i), realisticEntry(3*i+1), realisticEntry(3*i+2)))
	}
	if err := send(t, serve(t, r), msgs...); err != nil {
		t.Fatalf("stream ended with %v while the consumer was blocked, want OK", err)
	}
	dropped := testutil.ToFloat64(r.tel.droppedQueueFull)
	close(c.gate)
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// One batch is with the blocked worker and one in the queue; the rest must be dropped.
	if delivered := len(c.got()); delivered+int(dropped) != messages*perMessage || delivered > 2*perMessage {
		t.Errorf("delivered %d and dropped %v of %d entries", delivered, dropped, messages*perMessage)
	}
}

// TestReceiverLifecycle follows the OpenTelemetry Collector's component rules: Start returns
// at once, Shutdown is safe twice and without Start, and a receiver can start again.
func TestReceiverLifecycle(t *testing.T) {
	ctx := context.Background()
	c := &collector{}
	r, err := NewReceiver(ReceiverConfig{}, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := serve(t, r)
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown without Start: %v", err)
	}
	msg := httpMessage(identity("edge-1", "access"), realisticEntry(0))
	if err := send(t, client, msg); status.Code(err) != codes.Unavailable {
		t.Errorf("a stream before Start ended with %v, want Unavailable", err)
	}
	for round := range 2 {
		if err := r.Start(ctx); err != nil {
			t.Fatalf("Start, round %d: %v", round, err)
		}
		if err := r.Start(ctx); !errors.Is(err, ErrAlreadyStarted) {
			t.Errorf("a second Start returned %v, want ErrAlreadyStarted", err)
		}
		if err := send(t, client, msg); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		eventually(t, "the record arrives", func() bool { return len(c.got()) == round+1 })
		for range 2 {
			if err := r.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown, round %d: %v", round, err)
			}
		}
	}
}

// TestReceiverEndsStreamsAfterShutdown checks that a stream open across Shutdown ends with
// Unavailable on its next message, so that Envoy reconnects, and that the message counts.
func TestReceiverEndsStreamsAfterShutdown(t *testing.T) {
	r, err := NewReceiver(ReceiverConfig{}, &collector{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stream, err := serve(t, r).StreamAccessLogs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(httpMessage(identity("edge-1", "access"), realisticEntry(0))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stream is open", func() bool { return testutil.ToFloat64(r.tel.messages) == 1 })
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	stream.Send(httpMessage(nil, realisticEntry(1), realisticEntry(2)))
	if _, err := stream.CloseAndRecv(); status.Code(err) != codes.Unavailable {
		t.Errorf("the stream ended with %v, want Unavailable", err)
	}
	if got := testutil.ToFloat64(r.tel.droppedNotRunning); got != 2 {
		t.Errorf("counted %v entries dropped while not running, want 2", got)
	}
}

func TestReceiverConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   ReceiverConfig
		field string // named in the error; empty when the config is valid
	}{
		{"the zero config takes every default", ReceiverConfig{}, ""},
		{"a config within bounds is valid", ReceiverConfig{QueueBatches: 8, QueueBytes: 1 << 20, Workers: 4, MaxEntriesPerMessage: 100, MaxValueBytes: 64}, ""},
		{"a negative queue is rejected", ReceiverConfig{QueueBatches: -1}, "QueueBatches"},
		{"a queue too long to be a bound is rejected", ReceiverConfig{QueueBatches: 1 << 20}, "QueueBatches"},
		{"a negative byte budget is rejected", ReceiverConfig{QueueBytes: -1}, "QueueBytes"},
		{"too many workers are rejected", ReceiverConfig{Workers: 1000}, "Workers"},
		{"a negative entry limit is rejected", ReceiverConfig{MaxEntriesPerMessage: -5}, "MaxEntriesPerMessage"},
		{"a value limit that would cut request IDs is rejected", ReceiverConfig{MaxValueBytes: 16}, "MaxValueBytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tc.field != "" && (!errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field)):
				t.Errorf("got %v, want ErrInvalidConfig naming %s", err, tc.field)
			}
		})
	}
	if _, err := NewReceiver(ReceiverConfig{}, nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("a receiver with no consumer: got %v, want ErrInvalidConfig", err)
	}
}
