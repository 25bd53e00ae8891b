package als

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// This file is the tests' oracle: what a Record should hold, computed from the message as
// proto.Unmarshal builds it with Envoy's generated types, independently of the decoder.

// want is what decoding a message should give.
type want struct {
	Records    []Record
	TCPEntries int
}

// expect computes want from a message, for a stream whose identity so far is node,
// cluster, logName.
func expect(m *accesslogv3.StreamAccessLogsMessage, node, cluster, logName []byte) want {
	if id := m.GetIdentifier(); id != nil {
		node, cluster, logName = []byte(id.GetNode().GetId()), []byte(id.GetNode().GetCluster()), []byte(id.GetLogName())
	}
	w := want{TCPEntries: len(m.GetTcpLogs().GetLogEntry())}
	for _, e := range m.GetHttpLogs().GetLogEntry() {
		rec := expectRecord(e)
		rec.Node, rec.NodeCluster, rec.LogName = node, cluster, logName
		w.Records = append(w.Records, rec)
	}
	return w
}

func expectRecord(e *datav3.HTTPAccessLogEntry) Record {
	cp, req, resp := e.GetCommonProperties(), e.GetRequest(), e.GetResponse()
	r := Record{
		RouteName:       []byte(cp.GetRouteName()),
		UpstreamCluster: []byte(cp.GetUpstreamCluster()),
		UpstreamHost:    expectHost(cp.GetUpstreamRemoteAddress()),
		Authority:       []byte(req.GetAuthority()),
		Path:            []byte(req.GetPath()),
		UserAgent:       []byte(req.GetUserAgent()),
		RequestID:       []byte(req.GetRequestId()),
		Status:          resp.GetResponseCode().GetValue(),
		Flags:           expectFlags(cp.GetResponseFlags()),
		BytesReceived:   req.GetRequestHeadersBytes() + req.GetRequestBodyBytes(),
		BytesSent:       resp.GetResponseHeadersBytes() + resp.GetResponseBodyBytes(),
	}
	if m := req.GetRequestMethod(); m != corev3.RequestMethod_METHOD_UNSPECIFIED {
		if name, ok := corev3.RequestMethod_name[int32(m)]; ok {
			r.Method = []byte(name)
		}
	}
	if cp.GetStartTime() != nil {
		r.Start = cp.GetStartTime().AsTime()
	}
	if d := cp.GetTimeToLastDownstreamTxByte(); d != nil {
		r.Duration = d.AsDuration()
	} else if d := cp.GetTimeToLastUpstreamRxByte(); d != nil {
		r.Duration = d.AsDuration()
	}
	if tp, ok := req.GetRequestHeaders()["traceparent"]; ok {
		if trace, span, sampled, ok := expectTraceparent(tp); ok {
			r.SetTrace(trace, span, sampled)
		}
	}
	return r
}

// expectHost is the upstream host already joined, by net.JoinHostPort: diff compares hosts
// as HostPort.Append renders them.
func expectHost(a *corev3.Address) HostPort {
	switch a := a.GetAddress().(type) {
	case *corev3.Address_SocketAddress:
		sa := a.SocketAddress
		if p, ok := sa.GetPortSpecifier().(*corev3.SocketAddress_PortValue); ok {
			return HostPort{Host: []byte(net.JoinHostPort(sa.GetAddress(), strconv.FormatUint(uint64(p.PortValue), 10)))}
		}
		return HostPort{Host: []byte(sa.GetAddress())}
	case *corev3.Address_Pipe:
		return HostPort{Host: []byte(a.Pipe.GetPath())}
	}
	return HostPort{}
}

// expectFlags reads the flags through protobuf reflection: the flag of field n is bit n-1.
func expectFlags(f *datav3.ResponseFlags) ResponseFlags {
	var flags ResponseFlags
	if f == nil {
		return 0
	}
	fields := f.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if f.ProtoReflect().Has(fd) {
			flags |= 1 << (fd.Number() - 1)
		}
	}
	return flags
}

var traceparentRE = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$`)

// expectTraceparent parses per the W3C Trace Context text, by another route than the decoder.
func expectTraceparent(v string) (trace [16]byte, span [8]byte, sampled, ok bool) {
	m := traceparentRE.FindStringSubmatch(v)
	if m == nil || m[1] == "ff" || (m[1] == "00" && m[5] != "") {
		return trace, span, false, false
	}
	if m[2] == "00000000000000000000000000000000" || m[3] == "0000000000000000" {
		return trace, span, false, false
	}
	for i := range trace {
		b, _ := strconv.ParseUint(m[2][2*i:2*i+2], 16, 8)
		trace[i] = byte(b)
	}
	for i := range span {
		b, _ := strconv.ParseUint(m[3][2*i:2*i+2], 16, 8)
		span[i] = byte(b)
	}
	flags, _ := strconv.ParseUint(m[4], 16, 8)
	return trace, span, flags&1 == 1, true
}

// sameIDs compares trace IDs decoded: the decoder keeps a traceparent's digits until they
// are read, the oracle sets the IDs.
var sameIDs = cmp.Comparer(func(a, b traceIDs) bool {
	at, as := a.decode()
	bt, bs := b.decode()
	return at == bt && as == bs
})

// got is what the decoder gave, in want's shape.
func got(b *Batch) want {
	return want{Records: b.Records, TCPEntries: b.TCPEntries}
}

// diff compares decoded with expected; nil and empty byte slices are the same value, and
// hosts are compared as rendered: the decoder keeps address and port apart, the oracle
// joins them.
func diff(w, g want) string {
	return cmp.Diff(w, g, cmpopts.EquateEmpty(), renderHost, cmp.AllowUnexported(Record{}), sameIDs)
}

var renderHost = cmp.Transformer("Append", func(h HostPort) string { return string(h.Append(nil)) })

// decodeOne decodes one message with a fresh decoder and fails the test on error.
func decodeOne(t testing.TB, msg []byte, limits Limits) *Batch {
	t.Helper()
	var b Batch
	if err := NewDecoder(limits).Decode(msg, &b); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return &b
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("proto.Marshal: %v", err)
	}
	return b
}

// huge is a limit that nothing in the tests reaches, for comparisons with the oracle.
var huge = Limits{MaxEntries: 1 << 30, MaxValueBytes: 1 << 30}

// lenField encodes a length-delimited field whose payload is the parts joined.
func lenField(num protowire.Number, parts ...[]byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), slices.Concat(parts...))
}

// httpLogsWire is a StreamAccessLogsMessage with the given entry encodings as http_logs.
func httpLogsWire(entries ...[]byte) []byte {
	var logs []byte
	for _, e := range entries {
		logs = append(logs, lenField(entriesLogEntry, e)...)
	}
	return lenField(msgHTTPLogs, logs)
}

// Builders of realistic Envoy messages, as Envoy's HTTP gRPC access logger fills them.

func httpMessage(id *accesslogv3.StreamAccessLogsMessage_Identifier, entries ...*datav3.HTTPAccessLogEntry) *accesslogv3.StreamAccessLogsMessage {
	return &accesslogv3.StreamAccessLogsMessage{
		Identifier: id,
		LogEntries: &accesslogv3.StreamAccessLogsMessage_HttpLogs{
			HttpLogs: &accesslogv3.StreamAccessLogsMessage_HTTPAccessLogEntries{LogEntry: entries},
		},
	}
}

func tcpMessage(entries int) *accesslogv3.StreamAccessLogsMessage {
	return &accesslogv3.StreamAccessLogsMessage{LogEntries: &accesslogv3.StreamAccessLogsMessage_TcpLogs{
		TcpLogs: &accesslogv3.StreamAccessLogsMessage_TCPAccessLogEntries{LogEntry: make([]*datav3.TCPAccessLogEntry, entries)},
	}}
}

func identity(node, logName string) *accesslogv3.StreamAccessLogsMessage_Identifier {
	return &accesslogv3.StreamAccessLogsMessage_Identifier{
		Node:    &corev3.Node{Id: node, Cluster: "edge", UserAgentName: "envoy"},
		LogName: logName,
	}
}

func socket(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// realisticEntry is an entry as an edge Envoy logs a proxied request: addresses, the
// timing breakdown, TLS, typical headers, a UUID request ID and a traceparent.
func realisticEntry(i int) *datav3.HTTPAccessLogEntry {
	start := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC).Add(time.Duration(i) * time.Millisecond)
	ms := func(n int) *durationpb.Duration { return durationpb.New(time.Duration(n) * time.Millisecond) }
	return &datav3.HTTPAccessLogEntry{
		CommonProperties: &datav3.AccessLogCommon{
			DownstreamRemoteAddress:     socket("203.0.113.57", 51234+uint32(i%1000)),
			DownstreamLocalAddress:      socket("10.0.3.17", 8443),
			TlsProperties:               &datav3.TLSProperties{TlsVersion: datav3.TLSProperties_TLSv1_3, TlsSniHostname: "shop.example.com"},
			StartTime:                   timestamppb.New(start),
			TimeToLastRxByte:            ms(1),
			TimeToFirstUpstreamTxByte:   ms(2),
			TimeToLastUpstreamTxByte:    ms(2),
			TimeToFirstUpstreamRxByte:   ms(41),
			TimeToLastUpstreamRxByte:    ms(42),
			TimeToFirstDownstreamTxByte: ms(41),
			TimeToLastDownstreamTxByte:  ms(43 + i%7),
			UpstreamRemoteAddress:       socket("10.8.14.203", 8080),
			UpstreamLocalAddress:        socket("10.0.3.17", 40112),
			UpstreamCluster:             "shop/checkout",
			ResponseFlags:               &datav3.ResponseFlags{},
			RouteName:                   "shop/checkout",
			UpstreamRequestAttemptCount: 1,
			AccessLogType:               datav3.AccessLogType_DownstreamEnd,
		},
		ProtocolVersion: datav3.HTTPAccessLogEntry_HTTP2,
		Request: &datav3.HTTPRequestProperties{
			RequestMethod:       corev3.RequestMethod_POST,
			Scheme:              "https",
			Authority:           "shop.example.com",
			Path:                fmt.Sprintf("/checkout/cart/%d/items?currency=EUR", 100000+i),
			UserAgent:           "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
			ForwardedFor:        "203.0.113.57",
			RequestId:           fmt.Sprintf("7c9e6679-7425-40de-944b-e07fc1f9%04x", i%0x10000),
			RequestHeadersBytes: 612,
			RequestBodyBytes:    187,
			RequestHeaders: map[string]string{
				"traceparent": fmt.Sprintf("00-4bf92f3577b34da6a3ce929d0e0e%04x-00f067aa0ba902b7-01", i%0x10000),
			},
		},
		Response: &datav3.HTTPResponseProperties{
			ResponseCode:         wrapperspb.UInt32(200),
			ResponseHeadersBytes: 254,
			ResponseBodyBytes:    1834,
			ResponseCodeDetails:  "via_upstream",
		},
	}
}
