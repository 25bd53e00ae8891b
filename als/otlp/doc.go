// Package otlp receives access logs as Envoy's OpenTelemetry access logger
// (envoy.access_loggers.open_telemetry) sends them, OTLP logs over gRPC
// (opentelemetry.proto.collector.logs.v1.LogsService/Export), and maps each log record to
// the same als.Record an entry of Envoy's gRPC access logger becomes, so that a user can
// pick either logger and the SLI accounting, the join and the exports see no difference.
//
// The log records are read by the attribute keys of the format edgetel configures (see
// sim.LogAttributes, all strings as Envoy renders its command operators):
//
//	route_name        RouteName           response_code   Status
//	request_id        RequestID           response_flags  Flags (short codes, "," separated; "-" none)
//	traceparent       Sampled, HasTrace, and the IDs Trace returns
//	duration_ns       Duration            duration        Duration in ms, when duration_ns is absent
//	method            Method              authority       Authority
//	path              Path                user_agent      UserAgent
//	upstream_host     UpstreamHost        upstream_cluster UpstreamCluster
//	bytes_received    BytesReceived       bytes_sent      BytesSent
//
// The resource attributes node_name, cluster_name and log_name become Node, NodeCluster and LogName, and the record's
// timestamp (its observed timestamp when unset) Start. Other keys are ignored. A record
// whose numeric attribute does not parse is rejected, counted, and reported in the
// response's partial success.
//
// Requests are decoded straight from the wire into als.Record values whose byte fields are
// views of the request (decodeLogs), without building pdata's logs first: as the ALS
// receiver does, and for the same reason, the cost per entry. The decoding is held to what
// pdata's decoding and the mapping of pdata's logs that it replaced give, record for record
// (pdata_oracle_test.go, FuzzDecodeLogs).
package otlp
