// Package jaeger exports the sink's spans to Jaeger over OTLP/gRPC, enriched with what the
// join of access logs and spans knows about each request, and builds a span from the
// access log for a request that broke an objective and has none, so that every bad
// request has a trace (DESIGN.md, "Telemetry contracts": Jaeger).
//
// # Where it sits
//
// The Exporter is both a tracing.Consumer and a join.Consumer. The sink gives each batch
// of the trace receiver to the Exporter first and to the join second, in the same call, so
// the Exporter holds a span before the join can emit it; the join's consumer is the
// Exporter.
//
//   - ConsumeSpans copies every span it is given (the receiver's batch is not ours once
//     the call returns). A span without guid:x-request-id (an SDK's, an upstream child)
//     has nothing to join on and is queued for export at once. Any other waits in a
//     bounded pending buffer keyed by trace and span ID.
//   - ConsumeJoined takes what the join emits. A pair (record and span) takes its span
//     out of the buffer, adds the record's attributes (see below) and queues it. A span
//     the join emits alone (expired, evicted, duplicate, shutdown) is queued as it came.
//     A record alone whose verdict is bad gets a span built from it (synthesized).
//   - A span the join never emits (the join dropped it, its queue being full) is released
//     as it came after Config.Window, or earlier when the buffer is full (oldest first),
//     or at Shutdown: counted in edgetel_jaeger_spans_unjoined_total.
//
// Neither call waits: the export queue is a bounded channel and a span that finds it full
// is dropped and counted.
//
// # Attributes added
//
// To a span matched with its record, and to a synthesized span:
//
//	edgetel.route            the route name from the model ("unmatched" for none)
//	edgetel.status_code      the response code the access log recorded (int)
//	edgetel.response_flags   Envoy's short flag codes ("UF,URX"), "-" for none
//	edgetel.slo.verdict      "good" or "bad", only for a route with objectives
//	edgetel.slo.broken       the broken objectives' names, comma-separated, only when bad
//
// Upstream: Envoy's span already carries upstream_cluster; the join's record has no
// cluster, so a synthesized span has none.
//
// # Synthesized spans
//
// A record emitted alone with a bad verdict (most often a request Envoy did not sample)
// becomes a SERVER span named "edge <route>" under a resource with service.name
// "envoy-edge" (as Envoy's own spans), status error, the attributes above plus
// guid:x-request-id, http.status_code and edgetel.synthesized=true. Its trace and span ID
// are the logged traceparent's, so the trace ID in the access log (and in Loki) finds it;
// without a traceparent the trace ID is the request ID's 16 bytes (the UUID, or the
// join's hash of another ID) and the span ID their last 8.
//
// # Export
//
// One goroutine takes spans off the queue into batches (Config.BatchSpans, or what came
// within Config.BatchTimeout) and sends each as one Export with ptraceotlp's gRPC client.
// A failure with a code OTLP calls retryable (Unavailable, ResourceExhausted, Aborted,
// DeadlineExceeded, Canceled, OutOfRange, DataLoss) is retried with exponential backoff
// and jitter for up to Config.RetryMaxElapsed; meanwhile the queue fills and then drops,
// counted. So a Jaeger that is down for a while costs at most what the queue cannot hold,
// and every span lost is counted in edgetel_jaeger_spans_dropped_total:
//
//	received + synthesized = exported + dropped + queued + in flight + pending
//
// Shutdown stops taking input, releases the pending spans, and sends what is queued,
// bounded by its context; what the context leaves no time for is dropped with reason
// shutdown.
package jaeger
