package als

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestDecodeRealisticEntry spells out one entry field by field, so that a mistake shared
// by the decoder and the oracle still shows.
func TestDecodeRealisticEntry(t *testing.T) {
	b := decodeOne(t, mustMarshal(t, httpMessage(identity("edge-7f9c", "edgetel"), realisticEntry(0))), DefaultLimits())
	if len(b.Records) != 1 {
		t.Fatalf("got %d records, want 1", len(b.Records))
	}
	r := b.Records[0]
	trace, span := r.Trace()
	str := map[string][]byte{
		"edge-7f9c": r.Node, "edge": r.NodeCluster, "edgetel": r.LogName, "shop/checkout": r.RouteName,
		"10.8.14.203:8080": r.UpstreamHost.Append(nil), "POST": r.Method, "shop.example.com": r.Authority,
		"/checkout/cart/100000/items?currency=EUR":     r.Path,
		"7c9e6679-7425-40de-944b-e07fc1f90000":         r.RequestID,
		"4bf92f3577b34da6a3ce929d0e0e0000":             trace[:],
		"00f067aa0ba902b7":                             span[:],
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/": r.UserAgent[:44],
	}
	for want, got := range str {
		if s := string(got); s != want && hex.EncodeToString(got) != want {
			t.Errorf("got %q, want %q", s, want)
		}
	}
	start := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	if !r.Start.Equal(start) || r.Duration != 43*time.Millisecond || r.Status != 200 || r.Flags != 0 ||
		r.BytesReceived != 612+187 || r.BytesSent != 254+1834 || !r.HasTrace || !r.Sampled {
		t.Errorf("got %+v", r)
	}
}

// TestDecodeMatchesProto compares each case's records with what the oracle reads from the
// message that proto.Unmarshal builds.
func TestDecodeMatchesProto(t *testing.T) {
	entry := func(edit func(e *datav3.HTTPAccessLogEntry)) *datav3.HTTPAccessLogEntry {
		e := realisticEntry(1)
		edit(e)
		return e
	}
	traceparent := func(v string) *datav3.HTTPAccessLogEntry {
		return entry(func(e *datav3.HTTPAccessLogEntry) { e.Request.RequestHeaders["traceparent"] = v })
	}
	var methods []*datav3.HTTPAccessLogEntry
	for m := range corev3.RequestMethod_name {
		methods = append(methods, entry(func(e *datav3.HTTPAccessLogEntry) { e.Request.RequestMethod = corev3.RequestMethod(m) }))
	}
	tcp := &accesslogv3.StreamAccessLogsMessage{LogEntries: &accesslogv3.StreamAccessLogsMessage_TcpLogs{
		TcpLogs: &accesslogv3.StreamAccessLogsMessage_TCPAccessLogEntries{LogEntry: []*datav3.TCPAccessLogEntry{
			{CommonProperties: realisticEntry(1).CommonProperties}, {},
		}},
	}}
	tests := []struct {
		name string
		msg  *accesslogv3.StreamAccessLogsMessage
	}{
		{"a realistic batch decodes in message order", httpMessage(nil, realisticEntry(0), realisticEntry(1), realisticEntry(2))},
		{"the identifier names every record of its message", httpMessage(identity("node-a", "als"), realisticEntry(0), realisticEntry(1))},
		{"an entry with no properties at all decodes to zero values", httpMessage(nil, &datav3.HTTPAccessLogEntry{})},
		{"a message with no entries decodes to none", httpMessage(identity("node-a", "als"))},
		{"every request method maps to its name", httpMessage(nil, methods...)},
		{"an unknown method number is no method", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) { e.Request.RequestMethod = 42 }))},
		{"duration falls back to the last upstream byte when no downstream byte was sent",
			httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) { e.CommonProperties.TimeToLastDownstreamTxByte = nil }))},
		{"duration is zero when Envoy sent neither time", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.CommonProperties.TimeToLastDownstreamTxByte, e.CommonProperties.TimeToLastUpstreamRxByte = nil, nil
		}))},
		{"a duration past the range of time.Duration saturates", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.CommonProperties.TimeToLastDownstreamTxByte = &durationpb.Duration{Seconds: 1 << 40}
		}))},
		{"an IPv6 upstream is written in brackets", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.CommonProperties.UpstreamRemoteAddress = socket("2001:db8::7", 443)
		}))},
		{"an upstream with a named port is its address alone", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.CommonProperties.UpstreamRemoteAddress.GetSocketAddress().PortSpecifier = &corev3.SocketAddress_NamedPort{NamedPort: "http"}
		}))},
		{"an IPv6 upstream with a named port is its address alone, without brackets", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.CommonProperties.UpstreamRemoteAddress = socket("2001:db8::7", 443)
			e.CommonProperties.UpstreamRemoteAddress.GetSocketAddress().PortSpecifier = &corev3.SocketAddress_NamedPort{NamedPort: "https"}
		}))},
		{"a pipe upstream is its path", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.CommonProperties.UpstreamRemoteAddress = &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: "/run/app.sock"}}}
		}))},
		{"an internal upstream address has no host", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.CommonProperties.UpstreamRemoteAddress = &corev3.Address{Address: &corev3.Address_EnvoyInternalAddress{
				EnvoyInternalAddress: &corev3.EnvoyInternalAddress{AddressNameSpecifier: &corev3.EnvoyInternalAddress_ServerListenerName{ServerListenerName: "inner"}},
			}}
		}))},
		{"a response without a code has status 0", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) { e.Response.ResponseCode = nil }))},
		{"a 503 keeps its status", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) { e.Response.ResponseCode = wrapperspb.UInt32(503) }))},
		{"several flags decode together", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.CommonProperties.ResponseFlags = &datav3.ResponseFlags{UpstreamConnectionFailure: true, UpstreamRetryLimitExceeded: true,
				UnauthorizedDetails: &datav3.ResponseFlags_Unauthorized{Reason: datav3.ResponseFlags_Unauthorized_EXTERNAL_SERVICE}}
		}))},
		{"an unsampled traceparent is a trace that is not sampled", httpMessage(nil, traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))},
		{"an all-zero trace ID is no trace", httpMessage(nil, traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"))},
		{"an all-zero span ID is no trace", httpMessage(nil, traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"))},
		{"upper-case hex is no trace", httpMessage(nil, traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"))},
		{"version ff is no trace", httpMessage(nil, traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))},
		{"version 00 with more fields is no trace", httpMessage(nil, traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz"))},
		{"a later version with more fields is a trace", httpMessage(nil, traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-xyz"))},
		{"a later version run on without a dash is no trace", httpMessage(nil, traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03xyz"))},
		{"a short traceparent is no trace", httpMessage(nil, traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"))},
		{"an empty traceparent is no trace", httpMessage(nil, traceparent(""))},
		{"a traceparent under a capitalized name is not read", httpMessage(nil, entry(func(e *datav3.HTTPAccessLogEntry) {
			e.Request.RequestHeaders = map[string]string{"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
		}))},
		{"tcp entries are counted, not decoded", tcp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := decodeOne(t, mustMarshal(t, tc.msg), huge)
			if d := diff(expect(tc.msg, nil, nil, nil), got(b)); d != "" {
				t.Errorf("decoded differs from proto.Unmarshal (-want +got):\n%s", d)
			}
		})
	}
}

// TestDecodeMergesLikeProto sends what Envoy never sends but the wire allows: fields and
// sub-messages more than once, which proto.Unmarshal merges.
func TestDecodeMergesLikeProto(t *testing.T) {
	a, b := realisticEntry(1), &datav3.HTTPAccessLogEntry{
		CommonProperties: &datav3.AccessLogCommon{
			ResponseFlags:              &datav3.ResponseFlags{NoHealthyUpstream: true},
			TimeToLastDownstreamTxByte: &durationpb.Duration{Nanos: 5},
			UpstreamRemoteAddress:      &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "10.1.1.1"}}},
		},
		Request: &datav3.HTTPRequestProperties{RequestBodyBytes: 1, RequestHeaders: map[string]string{"traceparent": "garbage"}},
	}
	tcp := mustMarshal(t, &accesslogv3.StreamAccessLogsMessage{LogEntries: &accesslogv3.StreamAccessLogsMessage_TcpLogs{
		TcpLogs: &accesslogv3.StreamAccessLogsMessage_TCPAccessLogEntries{LogEntry: []*datav3.TCPAccessLogEntry{{}}},
	}})
	http := mustMarshal(t, httpMessage(identity("n", "l"), realisticEntry(2)))
	// One log_entry whose bytes are two encodings, a's then b's, is one merged entry.
	twoParts := httpLogsWire(slices.Concat(mustMarshal(t, a), mustMarshal(t, b)))
	tests := []struct {
		name string
		wire []byte
	}{
		{"an entry sent in two parts merges field by field", twoParts},
		{"tcp logs after http logs replace them", slices.Concat(http, tcp)},
		{"http logs after tcp logs replace them", slices.Concat(tcp, http)},
		{"http logs sent twice are concatenated", slices.Concat(http, http)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m accesslogv3.StreamAccessLogsMessage
			if err := proto.Unmarshal(tc.wire, &m); err != nil {
				t.Fatalf("proto.Unmarshal: %v", err)
			}
			if d := diff(expect(&m, nil, nil, nil), got(decodeOne(t, tc.wire, huge))); d != "" {
				t.Errorf("decoded differs from proto.Unmarshal (-want +got):\n%s", d)
			}
		})
	}
}

// TestDecodeResponseFlags sets each ResponseFlags field alone and checks that it decodes to
// the flag with Envoy's short code for it, so that flags.go, the decoder and Envoy agree.
func TestDecodeResponseFlags(t *testing.T) {
	codes := map[string]string{
		"failed_local_healthcheck": "LH", "no_healthy_upstream": "UH", "upstream_request_timeout": "UT",
		"local_reset": "LR", "upstream_remote_reset": "UR", "upstream_connection_failure": "UF",
		"upstream_connection_termination": "UC", "upstream_overflow": "UO", "no_route_found": "NR",
		"delay_injected": "DI", "fault_injected": "FI", "rate_limited": "RL", "unauthorized_details": "UAEX",
		"rate_limit_service_error": "RLSE", "downstream_connection_termination": "DC",
		"upstream_retry_limit_exceeded": "URX", "stream_idle_timeout": "SI",
		"invalid_envoy_request_headers": "IH", "downstream_protocol_error": "DPE",
		"upstream_max_stream_duration_reached": "UMSDR", "response_from_cache_filter": "RFCF",
		"no_filter_config_found": "NFCF", "duration_timeout": "DT", "upstream_protocol_error": "UPE",
		"no_cluster_found": "NC", "overload_manager": "OM", "dns_resolution_failure": "DF",
		"downstream_remote_reset": "DO",
	}
	fields := (&datav3.ResponseFlags{}).ProtoReflect().Descriptor().Fields()
	if fields.Len() != flagCount || len(codes) != flagCount {
		t.Fatalf("Envoy has %d response flags, flags.go %d, this test %d: update them together", fields.Len(), flagCount, len(codes))
	}
	var all ResponseFlags
	for i := range fields.Len() {
		fd := fields.Get(i)
		code := codes[string(fd.Name())]
		t.Run(string(fd.Name())+" decodes as "+code, func(t *testing.T) {
			e := realisticEntry(0)
			flags := e.CommonProperties.ResponseFlags.ProtoReflect()
			if fd.Message() != nil {
				flags.Set(fd, flags.NewField(fd)) // present and empty: presence is the flag
			} else {
				flags.Set(fd, protoreflect.ValueOfBool(true))
			}
			b := decodeOne(t, mustMarshal(t, httpMessage(nil, e)), DefaultLimits())
			want, ok := FlagByCode(code)
			if got := b.Records[0].Flags; !ok || got != want || got.String() != code {
				t.Errorf("got %v (%#x), want %s (%#x)", got, uint64(got), code, uint64(want))
			}
			all |= want
		})
	}
	t.Run("a flag sent true then false is cleared", func(t *testing.T) {
		on := mustMarshal(t, &datav3.ResponseFlags{UpstreamOverflow: true, NoRouteFound: true})
		off := protowire.AppendVarint(protowire.AppendTag(nil, 8, protowire.VarintType), 0)
		cp := slices.Concat(mustMarshal(t, &datav3.AccessLogCommon{}), lenField(commonResponseFlags, on, off))
		wire := httpLogsWire(lenField(entryCommon, cp))
		if got := decodeOne(t, wire, DefaultLimits()).Records[0].Flags; got != FlagNoRouteFound {
			t.Errorf("got %v, want NR", got)
		}
	})
	if want := strings.Join(flagCodes[:], ","); all.String() != want {
		t.Errorf("all flags render as %q, want %q", all.String(), want)
	}
}

// TestDecodeKeepsStreamIdentity follows one stream: Envoy sends the identifier in its
// first message only.
func TestDecodeKeepsStreamIdentity(t *testing.T) {
	d := NewDecoder(DefaultLimits())
	var b Batch
	step := func(msg *accesslogv3.StreamAccessLogsMessage, node, logName string) {
		t.Helper()
		wire := mustMarshal(t, msg)
		if err := d.Decode(wire, &b); err != nil {
			t.Fatal(err)
		}
		clear(wire) // the identity must not be a view of a message the receiver reuses
		for _, r := range b.Records {
			if string(r.Node) != node || string(r.LogName) != logName {
				t.Fatalf("got node %q log %q, want %q %q", r.Node, r.LogName, node, logName)
			}
		}
	}
	step(httpMessage(nil, realisticEntry(0)), "", "")                                      // a message before any identifier
	step(httpMessage(identity("edge-1", "access"), realisticEntry(1)), "edge-1", "access") // the first with one
	step(httpMessage(nil, realisticEntry(2)), "edge-1", "access")                          // later ones keep it
	step(httpMessage(identity("edge-2", ""), realisticEntry(3)), "edge-2", "")             // a new one replaces it
	step(httpMessage(nil, realisticEntry(4)), "edge-2", "")
}

// TestDecodeIsZeroCopy checks that byte fields are views of the message, and that decoding
// into a batch that has held a message before does not allocate.
func TestDecodeIsZeroCopy(t *testing.T) {
	wire := mustMarshal(t, httpMessage(identity("edge-1", "access"), realisticEntry(0), realisticEntry(1)))
	d := NewDecoder(DefaultLimits())
	var b Batch
	if err := d.Decode(wire, &b); err != nil {
		t.Fatal(err)
	}
	within := func(v []byte) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(v))), uintptr(unsafe.Pointer(&wire[0]))
		return p >= lo && p+uintptr(len(v)) <= lo+uintptr(len(wire))
	}
	for _, r := range b.Records {
		for _, v := range [][]byte{r.RouteName, r.UpstreamCluster, r.UpstreamHost.Host, r.Authority, r.Path, r.UserAgent, r.RequestID} {
			if !within(v) {
				t.Errorf("%q is not a view of the message", v)
			}
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.Decode(wire, &b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %v times per message in steady state, want 0", allocs)
	}
}
