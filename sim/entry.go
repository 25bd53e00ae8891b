package sim

import (
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// connectFailureReason is what Envoy logs as upstream_transport_failure_reason when the
// upstream refuses the connection (ECONNREFUSED).
const connectFailureReason = "delayed connect error: 111"

// FillEntry renders r into e as Envoy's gRPC access logger would log it. e is reset first;
// its nested messages are new, so an entry handed to gRPC earlier is never changed.
func (g *Generator) FillEntry(e *accesslogv3.HTTPAccessLogEntry, r *Request) {
	e.Reset()
	e.ProtocolVersion = accesslogv3.HTTPAccessLogEntry_HTTP2
	if r.Protocol == "HTTP/1.1" {
		e.ProtocolVersion = accesslogv3.HTTPAccessLogEntry_HTTP11
	}
	e.CommonProperties = g.common(r)
	e.Request = g.requestProperties(r)
	details := "via_upstream"
	if !r.Cause.upstreamAnswered() {
		details = causeReplies[r.Cause].details
	}
	e.Response = &accesslogv3.HTTPResponseProperties{
		ResponseCode:         wrapperspb.UInt32(r.Status),
		ResponseHeadersBytes: r.ResponseHeaderBytes,
		ResponseBodyBytes:    r.ResponseBodyBytes,
		ResponseCodeDetails:  details,
	}
}

func (g *Generator) common(r *Request) *accesslogv3.AccessLogCommon {
	// Envoy trusts the CDN's x-forwarded-for: the remote address is then the client's,
	// without a port, and the direct remote address is the CDN's connection.
	remotePort := r.ClientPort
	if r.PeerIP != r.ClientIP {
		remotePort = 0
	}
	c := &accesslogv3.AccessLogCommon{
		DownstreamRemoteAddress:       socketAddress(r.ClientIP, remotePort),
		DownstreamDirectRemoteAddress: socketAddress(r.PeerIP, r.ClientPort),
		DownstreamLocalAddress:        socketAddress(g.localIP, g.localPort),
		StartTime:                     timestamppb.New(r.Start),
		ResponseFlags:                 r.Flags.Proto(),
		UpstreamRequestAttemptCount:   r.Attempts,
		AccessLogType:                 accesslogv3.AccessLogType_DownstreamEnd,
		Duration:                      durationpb.New(r.Duration),
	}
	if r.Route != nil {
		c.RouteName, c.UpstreamCluster = r.Route.Name, r.Route.Backend.Cluster
	}
	if r.UpstreamHost != "" {
		c.UpstreamRemoteAddress = socketAddress(r.UpstreamHost, r.UpstreamPort)
		// A pure function of the request, so that rendering draws no random numbers.
		c.UpstreamLocalAddress = socketAddress(g.localIP, 40000+(r.ClientPort*7)%20000)
	}
	if r.Cause == CauseConnectFailure {
		c.UpstreamTransportFailureReason = connectFailureReason
	}
	timings(c, r)
	return c
}

// timings places Envoy's per-phase timestamps inside the request's duration, in the order
// Envoy records them; phases that did not happen (nothing sent upstream, no upstream
// response) are left out, as Envoy leaves them out.
func timings(c *accesslogv3.AccessLogCommon, r *Request) {
	d := float64(r.Duration)
	at := func(f float64) *durationpb.Duration { return durationpb.New(time.Duration(d * f)) }
	c.TimeToLastRxByte = at(0.02)
	if r.Cause.upstreamTried() {
		c.TimeToFirstUpstreamTxByte, c.TimeToLastUpstreamTxByte = at(0.03), at(0.04)
	}
	if r.Cause.upstreamAnswered() {
		c.TimeToFirstUpstreamRxByte, c.TimeToLastUpstreamRxByte = at(0.90), at(0.98)
		c.TimeToFirstDownstreamTxByte = at(0.91)
	} else {
		c.TimeToFirstDownstreamTxByte = at(0.97)
	}
	c.TimeToLastDownstreamTxByte = durationpb.New(r.Duration)
}

func (g *Generator) requestProperties(r *Request) *accesslogv3.HTTPRequestProperties {
	h := map[string]string{"traceparent": Traceparent(r.TraceID, r.SpanID, r.Sampled)}
	if g.logged.userAgent && r.UserAgent != "" {
		h["user-agent"] = r.UserAgent
	}
	if g.logged.forwardedFor && r.ForwardedFor != "" {
		h["x-forwarded-for"] = r.ForwardedFor
	}
	if g.logged.requestID {
		h["x-request-id"] = r.RequestID
	}
	return &accesslogv3.HTTPRequestProperties{
		RequestMethod:       corev3.RequestMethod(corev3.RequestMethod_value[r.Method]),
		Scheme:              r.Scheme,
		Authority:           r.Authority,
		Path:                r.Path,
		UserAgent:           r.UserAgent,
		ForwardedFor:        r.ForwardedFor,
		RequestId:           r.RequestID,
		RequestHeadersBytes: r.RequestHeaderBytes,
		RequestBodyBytes:    r.RequestBodyBytes,
		RequestHeaders:      h,
	}
}

func socketAddress(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}
