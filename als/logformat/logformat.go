// Package logformat is the format of Envoy's OpenTelemetry access logger
// (envoy.access_loggers.open_telemetry) that edgetel uses: the control plane configures it
// (xds), Envoy renders it, and the sink reads it (als/otlp). One table, so that the three
// cannot drift apart; the simulator renders the same keys (sim.LogAttributes, checked
// against this table by its tests).
//
// It has no dependencies: the control plane, the sink and the simulator all import it.
package logformat

// Attribute is one attribute of every log record: its key, and the Envoy command operator
// whose rendering (always a string) is its value. Envoy leaves out an attribute whose
// operator has no value.
type Attribute struct {
	Key, Operator string
}

// Attributes are the log records' attributes, in the order they are configured. The sink
// needs route_name, request_id, traceparent, response_code, response_flags and duration_ns
// for the SLIs; the rest fill the access-log line.
var Attributes = []Attribute{
	{"route_name", "%ROUTE_NAME%"},
	{"request_id", "%REQ(X-REQUEST-ID)%"},
	{"traceparent", "%REQ(TRACEPARENT)%"},
	{"response_code", "%RESPONSE_CODE%"},
	{"response_code_details", "%RESPONSE_CODE_DETAILS%"},
	{"response_flags", "%RESPONSE_FLAGS%"},
	{"duration", "%DURATION%"},
	{"duration_ns", "%COMMON_DURATION(DS_RX_BEG:DS_TX_END:ns)%"},
	{"method", "%REQ(:METHOD)%"},
	{"scheme", "%REQ(:SCHEME)%"},
	{"authority", "%REQ(:AUTHORITY)%"},
	{"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
	{"protocol", "%PROTOCOL%"},
	{"user_agent", "%REQ(USER-AGENT)%"},
	{"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"},
	{"downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"},
	{"upstream_host", "%UPSTREAM_HOST%"},
	{"upstream_cluster", "%UPSTREAM_CLUSTER%"},
	{"upstream_request_attempt_count", "%UPSTREAM_REQUEST_ATTEMPT_COUNT%"},
	{"bytes_received", "%BYTES_RECEIVED%"},
	{"bytes_sent", "%BYTES_SENT%"},
}

// Body is every log record's body: Envoy's default access-log format.
const Body = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ` +
	`%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ` +
	`"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`

// HeaderKey is the attribute key of a further request header the access log records (the
// global policy's accessLog.requestHeaders): request_header.<lower-case name>.
func HeaderKey(name string) string { return "request_header." + name }
