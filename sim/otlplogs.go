package sim

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/edgetel/edgetel/als/logformat"
)

// Access logs as OTLP logs (Config.AccessLogProtocol = OTLPProtocol): what Envoy's
// OpenTelemetry access logger (envoy.access_loggers.open_telemetry) sends for the same
// entries the gRPC access logger would, with the format below configured.
//
//   - Batching is the gRPC loggers' (buffer_size_bytes, buffer_flush_interval), but each
//     flush is one unary LogsService/Export: no stream, no identifier. A failed Export is
//     dropped, never retried, and counted as lost.
//   - One ResourceLogs per Export, one ScopeLogs (no scope name). The resource attributes
//     are Envoy's built-in labels: log_name, zone_name, cluster_name, node_name (the node
//     ID), all strings.
//   - A LogRecord per entry: time_unix_nano is the request's start time, trace_id and
//     span_id are those of the active span (the logged traceparent's), the body is a string
//     in Envoy's default access-log format (LogBodyFormat), and the attributes are those of
//     LogAttributes, each a string as Envoy's formatter renders its command operator. An
//     attribute whose operator has no value (an unmatched request's route_name, no
//     upstream host) is left out, as Envoy leaves out empty values.
//
// The sink maps a record to the request record by these keys; route_name, request_id,
// traceparent, response_code, response_flags and duration_ns carry what ALS entries
// carry for the SLIs.

// LogBodyFormat is the body every log record has: Envoy's default format.
const LogBodyFormat = logformat.Body

// LogAttribute is one attribute of the log records: its key, the Envoy command operator
// that fills it in the logger's attributes format, and how the simulator renders it.
type LogAttribute struct {
	Key, Operator string
	value         func(e *logEntry) string
}

type logEntry = accesslogv3.HTTPAccessLogEntry

// LogAttributes is the attributes format with how the simulator renders each: the keys and
// operators of logformat.Attributes (what the xDS translator configures and the sink reads),
// in its order; a test holds them equal.
var LogAttributes = []LogAttribute{
	{"route_name", "%ROUTE_NAME%", func(e *logEntry) string { return e.GetCommonProperties().GetRouteName() }},
	{"request_id", "%REQ(X-REQUEST-ID)%", func(e *logEntry) string { return e.GetRequest().GetRequestId() }},
	{"traceparent", "%REQ(TRACEPARENT)%", func(e *logEntry) string {
		return e.GetRequest().GetRequestHeaders()["traceparent"]
	}},
	{"response_code", "%RESPONSE_CODE%", func(e *logEntry) string {
		return uitoa(e.GetResponse().GetResponseCode().GetValue())
	}},
	{"response_code_details", "%RESPONSE_CODE_DETAILS%", func(e *logEntry) string { return e.GetResponse().GetResponseCodeDetails() }},
	{"response_flags", "%RESPONSE_FLAGS%", func(e *logEntry) string {
		return FlagsOf(e.GetCommonProperties().GetResponseFlags()).String()
	}},
	{"duration", "%DURATION%", func(e *logEntry) string { return strconv.FormatInt(lastTx(e).Milliseconds(), 10) }},
	{"duration_ns", "%COMMON_DURATION(DS_RX_BEG:DS_TX_END:ns)%", func(e *logEntry) string { return strconv.FormatInt(lastTx(e).Nanoseconds(), 10) }},
	{"method", "%REQ(:METHOD)%", func(e *logEntry) string { return e.GetRequest().GetRequestMethod().String() }},
	{"scheme", "%REQ(:SCHEME)%", func(e *logEntry) string { return e.GetRequest().GetScheme() }},
	{"authority", "%REQ(:AUTHORITY)%", func(e *logEntry) string { return e.GetRequest().GetAuthority() }},
	{"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", func(e *logEntry) string { return e.GetRequest().GetPath() }},
	{"protocol", "%PROTOCOL%", protocolOf},
	{"user_agent", "%REQ(USER-AGENT)%", func(e *logEntry) string { return e.GetRequest().GetUserAgent() }},
	{"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%", func(e *logEntry) string { return e.GetRequest().GetForwardedFor() }},
	{"downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%", func(e *logEntry) string {
		return addr(e.GetCommonProperties().GetDownstreamRemoteAddress())
	}},
	{"upstream_host", "%UPSTREAM_HOST%", func(e *logEntry) string {
		return addr(e.GetCommonProperties().GetUpstreamRemoteAddress())
	}},
	{"upstream_cluster", "%UPSTREAM_CLUSTER%", func(e *logEntry) string { return e.GetCommonProperties().GetUpstreamCluster() }},
	{"upstream_request_attempt_count", "%UPSTREAM_REQUEST_ATTEMPT_COUNT%", func(e *logEntry) string {
		return uitoa(e.GetCommonProperties().GetUpstreamRequestAttemptCount())
	}},
	{"bytes_received", "%BYTES_RECEIVED%", func(e *logEntry) string { return u64toa(e.GetRequest().GetRequestBodyBytes()) }},
	{"bytes_sent", "%BYTES_SENT%", func(e *logEntry) string { return u64toa(e.GetResponse().GetResponseBodyBytes()) }},
}

// LogRequest returns the Export request that carries entries as one flush of node
// nodeID's OpenTelemetry access logger.
func LogRequest(nodeID, nodeCluster string, entries []*accesslogv3.HTTPAccessLogEntry) plogotlp.ExportRequest {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res := rl.Resource().Attributes()
	res.PutStr("log_name", LogName)
	res.PutStr("zone_name", "")
	res.PutStr("cluster_name", nodeCluster)
	res.PutStr("node_name", nodeID)
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	records.EnsureCapacity(len(entries))
	for _, e := range entries {
		FillLogRecord(records.AppendEmpty(), e)
	}
	return plogotlp.NewExportRequestFromLogs(ld)
}

// FillLogRecord renders the access-log entry e as the OpenTelemetry access logger's record.
func FillLogRecord(lr plog.LogRecord, e *accesslogv3.HTTPAccessLogEntry) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(e.GetCommonProperties().GetStartTime().AsTime()))
	if parts := strings.Split(e.GetRequest().GetRequestHeaders()["traceparent"], "-"); len(parts) == 4 {
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		if hex.DecodedLen(len(parts[1])) == len(tid) && hex.DecodedLen(len(parts[2])) == len(sid) {
			hex.Decode(tid[:], []byte(parts[1]))
			hex.Decode(sid[:], []byte(parts[2]))
			lr.SetTraceID(tid)
			lr.SetSpanID(sid)
		}
	}
	a := lr.Attributes()
	a.EnsureCapacity(len(LogAttributes))
	vals := make(map[string]string, len(LogAttributes))
	for _, la := range LogAttributes {
		if v := la.value(e); v != "" {
			a.PutStr(la.Key, v)
			vals[la.Key] = v
		}
	}
	lr.Body().SetStr(logBody(e, vals))
}

// logBody renders LogBodyFormat, "-" standing for a value Envoy does not have.
func logBody(e *accesslogv3.HTTPAccessLogEntry, v map[string]string) string {
	d := func(k string) string {
		if s := v[k]; s != "" {
			return s
		}
		return "-"
	}
	start := e.GetCommonProperties().GetStartTime().AsTime().UTC().Format("2006-01-02T15:04:05.000Z")
	return "[" + start + `] "` + d("method") + " " + d("path") + " " + d("protocol") + `" ` +
		d("response_code") + " " + d("response_flags") + " " + d("bytes_received") + " " + d("bytes_sent") + " " +
		d("duration") + ` "` + d("x_forwarded_for") + `" "` + d("user_agent") + `" "` + d("request_id") + `" "` +
		d("authority") + `" "` + d("upstream_host") + `"`
}

// lastTx is Envoy's %DURATION%: from the start to the last byte sent downstream.
func lastTx(e *accesslogv3.HTTPAccessLogEntry) time.Duration {
	return e.GetCommonProperties().GetTimeToLastDownstreamTxByte().AsDuration()
}

func protocolOf(e *accesslogv3.HTTPAccessLogEntry) string {
	if e.GetProtocolVersion() == accesslogv3.HTTPAccessLogEntry_HTTP11 {
		return "HTTP/1.1"
	}
	return "HTTP/2"
}

func addr(a *corev3.Address) string {
	s := a.GetSocketAddress()
	if s == nil {
		return ""
	}
	return s.GetAddress() + ":" + uitoa(s.GetPortValue())
}

func uitoa(v uint32) string  { return strconv.FormatUint(uint64(v), 10) }
func u64toa(v uint64) string { return strconv.FormatUint(v, 10) }

// flushOTLP sends the buffer as one OTLP logs Export; a failed Export is dropped, as the
// OpenTelemetry access logger drops it.
func (n *node) flushOTLP() {
	req := LogRequest(n.id, n.cfg.NodeCluster, n.buf.entries)
	ctx, cancel := context.WithTimeout(n.ctx, exportTimeout)
	defer cancel()
	if _, err := n.logs.Export(ctx, req); err != nil {
		n.drop(len(n.buf.entries))
		n.rec.failed(n.id, err)
		return
	}
	n.rec.sent(n.id, n.buf.outs)
}
