// Package sim emulates a fleet of Envoy edge nodes sending access logs to the sink, built on
// Envoy's own protobuf messages and on its documented behaviour, so that the demo, the tests
// and the benchmarks exercise the sink with what a real fleet sends.
//
// # What a node does
//
// Each node opens ONE envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs stream, as
// Envoy's gRPC access logger does. The first message of every stream carries the identifier
// (node id and cluster, log_name "edgetel"), later ones do not. Entries are buffered as
// Envoy's buffered logger buffers them: the buffer is flushed once the proto size of its
// entries reaches BufferSize (buffer_size_bytes, 16 KiB) or every FlushInterval
// (buffer_flush_interval, 1 s). When a stream breaks, the batch in hand is dropped, as Envoy
// drops it, and the node opens a new stream after a backoff; batches flushed while there is
// no stream are dropped too. Every drop is counted in the Truth. (With OTLP logs, each
// flush is one unary Export instead, dropped when it fails: see below.)
//
// # What the traffic looks like
//
// A Generator makes the requests from the model's routes: each route gets a Profile (share of
// the rate, error ratios, a log-normal latency whose median sits below the route's latency
// thresholds so that its SLO is met in steady state), a small share of requests matches no
// route (404, NR), errors carry the response flags Envoy would set (UF, UO, UT, URX) or none
// for a plain 5xx from the upstream, and scheduled Incidents raise a route's errors and
// latency for a while. Request IDs are UUIDs as Envoy's UUID extension makes them (trace
// reason packed), the logged traceparent header's sampled flag follows the route's sampling
// percentage.
//
// # Time and determinism
//
// A generator has a virtual clock that advances by an exponential (Poisson) gap per request
// at its rate; the same seed, epoch and workload give the same requests, entry for entry.
// The clock is the schedule in every mode:
//
//   - RealTime (the demo): a node sends each request when the wall clock reaches its start
//     time; Start anchors the clock at the wall clock, so start times are real times.
//   - Virtual: the clock runs as fast as the node can send, so "ten minutes of traffic",
//     incidents included, take a fraction of a second. Start times run ahead of the wall
//     clock; a test that wants them to end near now sets Epoch in the past. The flush
//     interval is measured on the virtual clock, so batches hold what Envoy's would.
//   - Fleet.SendN: counted, virtual time, returns once every stream is closed cleanly.
//
// Started on the Virtual clock, a fleet runs flat out until Shutdown: a load generator.
//
// Each node has its own generator, seeded from Config.Seed and its index, so the sequence a
// node sends does not depend on goroutine scheduling.
//
// One simplification: a node logs a request at its start time, where Envoy logs it when
// it ends, a duration later. Entries therefore reach the sink in start-time order and a
// little early; nothing the sink computes depends on that.
//
// # Truth
//
// The fleet keeps exact ground truth of what it sent: see Truth. ALS has no per-message
// acknowledgement, so an entry counts as sent once gRPC's Send accepted it, and the counts
// are exact for the sink when Truth.Exact reports true: every stream was closed cleanly
// (CloseAndRecv returned the server's OK), so the server read everything sent on it.
//
// # Stats, spans and OTLP logs
//
// Besides its access logs, each node sends, on the same gRPC connection (the sink serves all
// of them on one port), what Envoy derives from the same requests:
//
//   - Stats (Config.Stats): the node's cluster counters (NodeStats, which outlive a run),
//     flushed every StatsFlushInterval (10 s) on the node's clock, real or virtual, as deltas
//     on one envoy.service.metrics.v3 StreamMetrics stream, opened at the first tick; a last
//     flush follows the access-log stream's close. Every request counts, also one whose
//     entry is dropped. A flush that finds no stream, or whose Send fails, is dropped as
//     Envoy drops it, and the next tick opens a new stream.
//   - Spans (Config.Spans): the downstream span of every sampled request, batched as
//     Envoy's OpenTelemetry tracer batches them (SpanBuffer: 5 spans or 5 s, the timer run
//     where the node runs its access-log flush timer), each flush one unary OTLP Export,
//     never retried; the rest are flushed when the node finishes.
//   - With Config.AccessLogProtocol = OTLPProtocol the access logs themselves go as OTLP
//     logs, as Envoy's OpenTelemetry access logger sends them: the same entries, batches
//     and flushes, each flush one unary Export (see LogAttributes for the mapping).
//
// The Truth counts stats flushes and spans sent and lost, and the stats deltas sent; a lost
// stats flush or span does not make SendN fail, which is about the access logs.
package sim
