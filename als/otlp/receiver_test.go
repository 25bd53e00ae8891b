package otlp

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// collector is an als.Consumer that copies the request IDs it is given; gate, when not
// nil, holds each call until it is closed.
type collector struct {
	gate chan struct{}
	mu   sync.Mutex
	ids  []string
}

func (c *collector) ConsumeRecords(b []als.Record) {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range b {
		c.ids = append(c.ids, string(r.RequestID))
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

// request is an Export of n records with request IDs "0", "1", ...; bad of them (the
// last) have a response code that does not parse.
func request(n, bad int) plogotlp.ExportRequest {
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"route_name": "shop/cart", "request_id": strconv.Itoa(i), "response_code": "200"}
		if i >= n-bad {
			recs[i]["response_code"] = "OK"
		}
	}
	return plogotlp.NewExportRequestFromLogs(logsOf(recs...))
}

// serve starts r on a gRPC server on loopback and returns pdata's OTLP client of it.
func serve(t *testing.T, r *Receiver) (plogotlp.GRPCClient, *grpc.ClientConn) {
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
	return plogotlp.NewGRPCClient(conn), conn
}

func newStarted(t *testing.T, cfg ReceiverConfig, c als.Consumer) *Receiver {
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

func TestLogsSentWithTheOTLPClientReachTheConsumer(t *testing.T) {
	c := &collector{}
	r := newStarted(t, ReceiverConfig{}, c)
	client, _ := serve(t, r)
	ctx := testContext(t)
	for range 4 {
		resp, err := client.Export(ctx, request(5, 0))
		if err != nil {
			t.Fatal(err)
		}
		if n := resp.PartialSuccess().RejectedLogRecords(); n != 0 {
			t.Errorf("%d records rejected: %s", n, resp.PartialSuccess().ErrorMessage())
		}
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if c.count() != 20 || c.ids[0] != "0" || c.ids[19] != "4" {
		t.Errorf("the consumer got %d records %v, want 20", c.count(), c.ids)
	}
	for name, want := range map[string]float64{"requests": 4, "received": 20, "delivered": 20} {
		got := map[string]prometheus.Counter{"requests": r.tel.requests, "received": r.tel.received, "delivered": r.tel.delivered}[name]
		if v := testutil.ToFloat64(got); v != want {
			t.Errorf("%s: %v, want %v", name, v, want)
		}
	}
}

func TestRecordsThatDoNotParseAreRejectedInThePartialSuccessAndCounted(t *testing.T) {
	c := &collector{}
	r := newStarted(t, ReceiverConfig{}, c)
	client, _ := serve(t, r)
	ctx := testContext(t)
	resp, err := client.Export(ctx, request(5, 2))
	if err != nil {
		t.Fatal(err)
	}
	if n := resp.PartialSuccess().RejectedLogRecords(); n != 2 || resp.PartialSuccess().ErrorMessage() == "" {
		t.Errorf("partial success %d %q, want 2 rejected with a reason", n, resp.PartialSuccess().ErrorMessage())
	}
	r.Shutdown(ctx)
	if c.count() != 3 || testutil.ToFloat64(r.tel.rejectedInvalid) != 2 {
		t.Errorf("%d consumed, %v rejected; want 3 and 2", c.count(), testutil.ToFloat64(r.tel.rejectedInvalid))
	}
}

// garbage is a request whose bytes are not a protobuf message; pdata's gRPC codec sends
// whatever MarshalProto writes.
type garbage struct{}

func (garbage) SizeProto() int                { return 3 }
func (garbage) MarshalProto(b []byte) int     { return copy(b, []byte{0x0a, 0xff, 0xff}) }
func (garbage) UnmarshalProto(b []byte) error { return nil }

func TestAMalformedRequestIsRefusedAndCountedAndTheReceiverGoesOn(t *testing.T) {
	r := newStarted(t, ReceiverConfig{}, &collector{})
	client, conn := serve(t, r)
	ctx := testContext(t)
	var resp garbage
	if err := conn.Invoke(ctx, "/opentelemetry.proto.collector.logs.v1.LogsService/Export", garbage{}, &resp); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a malformed request: %v, want InvalidArgument", err)
	}
	if got := testutil.ToFloat64(r.tel.malformed); got != 1 {
		t.Errorf("edgetel_otlp_logs_requests_malformed_total %v, want 1", got)
	}
	if _, err := client.Export(ctx, request(2, 0)); err != nil {
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
		resp, err := client.Export(ctx, request(5, 0))
		if err != nil {
			t.Fatal(err)
		}
		rejected += int(resp.PartialSuccess().RejectedLogRecords())
	}
	close(c.gate)
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	dropped := int(testutil.ToFloat64(r.tel.droppedQueueFull))
	if dropped < 5*(sends-2) || dropped != rejected {
		t.Errorf("%d records dropped, %d reported rejected; want the same, at least %d", dropped, rejected, 5*(sends-2))
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
	if _, err := client.Export(testContext(t), request(3, 0)); status.Code(err) != codes.Unavailable {
		t.Errorf("before Start: %v, want Unavailable", err)
	}
	if got := testutil.ToFloat64(r.tel.droppedNotRunning); got != 3 {
		t.Errorf("edgetel_otlp_logs_records_dropped_total{reason=not_running} %v, want 3", got)
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
		t.Fatalf("Shutdown before Start: %v", err)
	}
	for range 2 {
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != ErrAlreadyStarted {
			t.Errorf("a second Start: %v, want ErrAlreadyStarted", err)
		}
		if err := r.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnInvalidConfigOrANilConsumerIsRefused(t *testing.T) {
	for _, cfg := range []ReceiverConfig{{QueueRequests: -1}, {Workers: 1000}, {MaxRecordsPerRequest: -1}, {MaxValueBytes: 10}, {QueueBytes: -1}} {
		if _, err := NewReceiver(cfg, &collector{}, nil); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if _, err := NewReceiver(ReceiverConfig{}, nil, nil); err == nil {
		t.Error("a nil consumer accepted")
	}
}

func TestTheSelfTelemetryPassesALint(t *testing.T) {
	r, _ := NewReceiver(ReceiverConfig{}, &collector{}, nil)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r)
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Errorf("gathered %d metrics: %v", n, err)
	}
}

// The receiver resolves each record's route in the model in force, as the ALS one does.
func TestRecordsAreResolvedInTheModelInForce(t *testing.T) {
	type resolved struct {
		pos int
		ok  bool
	}
	var mu sync.Mutex
	var got []resolved
	m := &model.Edge{Routes: []model.Route{{Name: "shop/checkout"}, {Name: "shop/cart"}}}
	r := newStarted(t, ReceiverConfig{}, als.ConsumerFunc(func(b []als.Record) {
		mu.Lock()
		defer mu.Unlock()
		for i := range b {
			pos, ok := b[i].RouteIn(m)
			got = append(got, resolved{pos, ok})
		}
	}))
	client, _ := serve(t, r)
	ctx := testContext(t)
	for _, in := range []*model.Edge{nil, m} {
		r.SetRoutes(als.NewRouteIndex(in))
		if _, err := client.Export(ctx, request(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []resolved{{0, false}, {1, true}}; !slices.Equal(got, want) {
		t.Errorf("records resolved as %v, want %v: shop/cart is the model's second route", got, want)
	}
}
