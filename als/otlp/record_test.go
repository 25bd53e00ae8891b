package otlp

import (
	"reflect"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/sim"
)

const (
	testTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	testRequestID   = "5c0e6ee4-3f55-4b6a-9d0c-5f0e8a3c2a11"
)

var (
	testStart   = time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC)
	testTraceID = [16]byte{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c}
	testSpanID  = [8]byte{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31}
)

// logsOf is one Export's logs as Envoy's OpenTelemetry access logger sends them: the
// resource attributes of node "node-1", one record per attribute map.
func logsOf(records ...map[string]any) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res := rl.Resource().Attributes()
	res.PutStr("log_name", sim.LogName)
	res.PutStr("zone_name", "")
	res.PutStr("cluster_name", "edge")
	res.PutStr("node_name", "node-1")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, attrs := range records {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(testStart))
		if err := lr.Attributes().FromRaw(attrs); err != nil {
			panic(err)
		}
	}
	return ld
}

// want is the record every case starts from: what the resource and timestamp give.
func want(edit func(r *als.Record)) als.Record {
	r := als.Record{Node: []byte("node-1"), NodeCluster: []byte("edge"), LogName: []byte(sim.LogName), Start: testStart}
	if edit != nil {
		edit(&r)
	}
	return r
}

func TestLogRecordsMapToTheRequestRecordsOfTheirALSEntries(t *testing.T) {
	cases := []struct {
		name  string
		attrs map[string]any
		want  als.Record
	}{
		{"a full record of a routed request maps every field", map[string]any{
			"route_name": "shop/checkout", "request_id": testRequestID, "traceparent": testTraceparent,
			"response_code": "503", "response_code_details": "upstream_reset_before_response_started",
			"response_flags": "UF,URX", "duration": "250", "duration_ns": "250123456",
			"method": "POST", "scheme": "https", "authority": "shop.example.com", "path": "/cart/checkout?x=1",
			"protocol": "HTTP/2", "user_agent": "curl/8", "x_forwarded_for": "10.0.0.1",
			"upstream_host": "10.1.2.3:8080", "upstream_cluster": "shop/checkout-v1",
			"upstream_request_attempt_count": "2", "bytes_received": "123", "bytes_sent": "4567",
		}, want(func(r *als.Record) {
			r.RouteName, r.RequestID = []byte("shop/checkout"), []byte(testRequestID)
			r.Status, r.Flags = 503, als.FlagUpstreamConnectionFailure|als.FlagUpstreamRetryLimitExceeded
			r.Duration = 250123456 * time.Nanosecond
			r.Method, r.Authority, r.Path, r.UserAgent = []byte("POST"), []byte("shop.example.com"), []byte("/cart/checkout?x=1"), []byte("curl/8")
			r.UpstreamHost, r.UpstreamCluster = als.HostPort{Host: []byte("10.1.2.3:8080")}, []byte("shop/checkout-v1")
			r.BytesReceived, r.BytesSent = 123, 4567
			r.SetTrace(testTraceID, testSpanID, true)
		})},
		{"an unmatched request without route or upstream has empty fields", map[string]any{
			"response_code": "404", "response_flags": "NR", "duration_ns": "1000",
		}, want(func(r *als.Record) {
			r.Status, r.Flags, r.Duration = 404, als.FlagNoRouteFound, time.Microsecond
		})},
		{"no flags is Envoy's dash", map[string]any{"response_code": "200", "response_flags": "-"},
			want(func(r *als.Record) { r.Status = 200 })},
		{"the duration in milliseconds is used when duration_ns is absent", map[string]any{"duration": "42"},
			want(func(r *als.Record) { r.Duration = 42 * time.Millisecond })},
		{"duration_ns wins over the duration in milliseconds", map[string]any{"duration": "42", "duration_ns": "41999999"},
			want(func(r *als.Record) { r.Duration = 41999999 })},
		{"an unsampled traceparent gives the IDs, not sampled", map[string]any{
			"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
		}, want(func(r *als.Record) { r.SetTrace(testTraceID, testSpanID, false) })},
		{"a malformed traceparent gives no trace", map[string]any{"traceparent": "00-XYZ-b7ad6b7169203331-01"},
			want(nil)},
		{"a flag code this build does not know is skipped", map[string]any{"response_flags": "UT,ZZZ"},
			want(func(r *als.Record) { r.Flags = als.FlagUpstreamRequestTimeout })},
		{"numbers sent as integers are read too", map[string]any{"response_code": int64(201), "bytes_sent": int64(9)},
			want(func(r *als.Record) { r.Status, r.BytesSent = 201, 9 })},
		{"a response code of 0 is a request without a response", map[string]any{"response_code": "0", "response_flags": "DC"},
			want(func(r *als.Record) { r.Flags = als.FlagDownstreamConnectionTermination })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b Batch
			x := extract(logsOf(c.attrs), limits{maxRecords: 10, maxValue: DefaultMaxValueBytes}, &b)
			if x.invalid+x.overLimit+x.truncated != 0 || len(b.Records) != 1 {
				t.Fatalf("%d records, %+v; want one accepted", len(b.Records), x)
			}
			if got := b.Records[0]; !reflect.DeepEqual(got.Clone(), c.want.Clone()) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestARecordWhoseNumbersDoNotParseIsRejectedAndTheOthersKept(t *testing.T) {
	for _, bad := range []map[string]any{
		{"response_code": "5xx"}, {"response_code": "99999999999"}, {"duration_ns": "-1"},
		{"duration": "soon"}, {"bytes_received": "1e3"}, {"bytes_sent": int64(-1)},
		{"response_flags": "UF,,UT"}, {"response_code": true},
	} {
		var b Batch
		good := map[string]any{"route_name": "shop/cart", "response_code": "200"}
		x := extract(logsOf(good, bad, good), limits{maxRecords: 10, maxValue: DefaultMaxValueBytes}, &b)
		if x.invalid != 1 || x.firstInvalid == "" || len(b.Records) != 2 || string(b.Records[1].RouteName) != "shop/cart" {
			t.Errorf("%v: %d records, %+v; want the bad one rejected with a reason, the two others kept", bad, len(b.Records), x)
		}
	}
}

func TestRecordsPastTheLimitAreRejectedAndLongValuesCut(t *testing.T) {
	long := make([]byte, 100)
	for i := range long {
		long[i] = 'a'
	}
	recs := make([]map[string]any, 5)
	for i := range recs {
		recs[i] = map[string]any{"path": "/" + string(long)}
	}
	var b Batch
	x := extract(logsOf(recs...), limits{maxRecords: 3, maxValue: 64}, &b)
	if len(b.Records) != 3 || x.overLimit != 2 || x.truncated != 3 {
		t.Fatalf("%d records, %+v; want 3 kept, 2 over the limit, 3 values cut", len(b.Records), x)
	}
	if len(b.Records[2].Path) != 64 {
		t.Errorf("a path of %d bytes kept, want 64", len(b.Records[2].Path))
	}
}

func TestRecordsAreViewsOfTheRequestAndABatchIsReusedWithoutAllocating(t *testing.T) {
	var b Batch
	lim := limits{maxRecords: 100, maxValue: DefaultMaxValueBytes}
	recs := make([]map[string]any, 50)
	for i := range recs {
		recs[i] = map[string]any{"route_name": "shop/checkout", "request_id": testRequestID, "path": "/cart",
			"response_code": "200", "response_flags": "UF,URX", "bytes_sent": int64(i), "traceparent": testTraceparent}
	}
	wire, err := plogotlp.NewExportRequestFromLogs(logsOf(recs...)).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeLogs(wire, lim, &b); err != nil {
		t.Fatal(err)
	}
	// Rendering the integers into the batch's buffer must not move earlier ones from under
	// the records.
	for i, r := range b.Records {
		if string(r.RouteName) != "shop/checkout" || string(r.RequestID) != testRequestID || string(r.Path) != "/cart" ||
			r.BytesSent != uint64(i) || !r.HasTrace {
			t.Fatalf("record %d: %q %q %q %d %v", i, r.RouteName, r.RequestID, r.Path, r.BytesSent, r.HasTrace)
		}
	}
	allocs := testing.AllocsPerRun(20, func() { decodeLogs(wire, lim, &b) })
	if allocs > 0 {
		t.Errorf("%v allocations per request decoded into a reused batch, want none", allocs)
	}
}

func TestARecordTheSimulatorRendersMapsToItsEntrysFields(t *testing.T) {
	e := &accesslogv3.HTTPAccessLogEntry{
		CommonProperties: &accesslogv3.AccessLogCommon{
			RouteName: "shop/checkout", UpstreamCluster: "shop/checkout-v1",
			StartTime:                  timestamppb.New(testStart),
			TimeToLastDownstreamTxByte: durationpb.New(1234567 * time.Nanosecond),
			ResponseFlags:              &accesslogv3.ResponseFlags{UpstreamRequestTimeout: true},
			UpstreamRemoteAddress: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
				Address: "10.1.2.3", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}},
		},
		Request: &accesslogv3.HTTPRequestProperties{
			RequestMethod: corev3.RequestMethod_GET, Authority: "shop.example.com", Path: "/cart",
			UserAgent: "sim", RequestId: testRequestID, RequestBodyBytes: 10,
			RequestHeaders: map[string]string{"traceparent": testTraceparent},
		},
		Response: &accesslogv3.HTTPResponseProperties{ResponseCode: wrapperspb.UInt32(504), ResponseBodyBytes: 20},
	}
	req := sim.LogRequest("node-1", "edge", []*accesslogv3.HTTPAccessLogEntry{e})
	var b Batch
	x := extract(req.Logs(), limits{maxRecords: 10, maxValue: DefaultMaxValueBytes}, &b)
	if len(b.Records) != 1 || x.invalid != 0 {
		t.Fatalf("%d records, %+v", len(b.Records), x)
	}
	w := want(func(r *als.Record) {
		r.RouteName, r.UpstreamCluster, r.UpstreamHost = []byte("shop/checkout"), []byte("shop/checkout-v1"), als.HostPort{Host: []byte("10.1.2.3:8080")}
		r.Method, r.Authority, r.Path, r.UserAgent = []byte("GET"), []byte("shop.example.com"), []byte("/cart"), []byte("sim")
		r.RequestID, r.Status, r.Flags, r.Duration = []byte(testRequestID), 504, als.FlagUpstreamRequestTimeout, 1234567
		r.BytesReceived, r.BytesSent = 10, 20
		r.SetTrace(testTraceID, testSpanID, true)
	})
	if got := b.Records[0]; !reflect.DeepEqual(got.Clone(), w.Clone()) {
		t.Errorf("got  %+v\nwant %+v", got, w)
	}
}
