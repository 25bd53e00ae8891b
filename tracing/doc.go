// Package tracing receives spans over OTLP/gRPC (opentelemetry.proto.collector.trace.v1
// TraceService/Export) on the sink's gRPC port, as Envoy's OpenTelemetry tracer and OTel
// SDKs send them, and reads each span once into a Span for the join.
//
// # What Envoy sends
//
// Envoy's OpenTelemetry tracer (source/extensions/tracers/opentelemetry/tracer.cc) exports
// only sampled spans. Each worker thread has its own tracer with its own buffer, flushed
// when it holds tracing.opentelemetry.min_flush_spans spans (runtime, default 5) and every
// tracing.opentelemetry.flush_interval_ms (default 5000); each flush is one unary Export
// with one ResourceSpans (service.name from the tracer's config) and one ScopeSpans. The
// exporter sends it once and forgets it: no retry.
//
// The HTTP connection manager's downstream span (kind SERVER for an ingress listener) gets
// string attributes from TracerImpl::startSpan, HttpTracerUtility::finalizeDownstreamSpan
// and setCommonTags (source/common/tracing): node_id, zone, guid:x-request-id, http.url,
// http.method, downstream_cluster, user_agent, http.protocol, peer.address, request_size,
// response_size, component ("proxy"), upstream_cluster, upstream_cluster.name,
// http.status_code ("0" when no response was sent), response_flags, upstream_address,
// and error ("true" for a 5xx or no response). This package relies on guid:x-request-id
// (the join key, per DESIGN.md's telemetry contract) and node_id; the rest travel in
// Span.Raw.
//
// The router injects the downstream span's context into the request headers it forwards,
// which are also the headers the access logger reads: the traceparent in an access log is
// "00-<this span's trace ID>-<this span's ID>-<sampled>", unless the request never reached
// an upstream (no route, overflow, connect failure: then it is whatever the client sent,
// if anything). So the join keys on the request ID, which both always carry.
//
// # Answers and losses
//
// See Receiver: malformed requests are refused (InvalidArgument) and counted; invalid or
// excess spans are rejected and reported as a partial success; a full queue drops a
// request's spans, counted and reported the same way; nothing makes the sender wait for
// the consumer. Messages over the gRPC server's size limit are refused by gRPC itself
// (ResourceExhausted) before they reach the receiver, and are not counted here.
package tracing
