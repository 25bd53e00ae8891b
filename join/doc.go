// Package join correlates each request's access-log record with its span by request ID
// (Envoy's x-request-id: request.request_id in the access log, guid:x-request-id on the
// span), within a bounded window and a bounded table, and emits each record with its span,
// or alone, judged against its route's objectives.
//
// # Why by request ID
//
// Both signals always carry it. The trace ID is in the access log's traceparent only when
// Envoy's router injected its span's context (see package tracing): a request that never
// reached an upstream logs whatever the client sent, or nothing.
//
// # What waits and what does not
//
// Envoy's tracer exports sampled spans only, so a record whose traceparent says "not
// sampled" (or, without a traceparent, whose UUID request ID carries Envoy's "not traced"
// reason) has no span coming: it is emitted at once, as is anything without a request ID.
// Only sampled records and spans wait, which keeps the table to the sampled share of the
// traffic. Either side may come first. An entry waits at least Config.Window and at most
// a second more (expiry is checked on each batch and on a ticker, in whole seconds); when
// the table is full the oldest entry goes, counted as evicted. A second item of one side
// with a pending request ID sends the first one out alone (duplicate) and waits in its
// place. Shutdown emits everything pending, so a clean stop loses nothing.
//
// # Memory
//
// A pending entry is a fixed 96-byte struct without pointers (request ID as 16 bytes:
// the UUID parsed, or a 128-bit hash of an ID that is not one; trace and span IDs; start,
// duration or end; bytes; response flags; a route index; status and flags packed in 16
// bits; age-list links and expiry). Entries live in one slab allocated at New with a free
// list, a doubly linked list oldest first (expiry and eviction in O(1)), and an
// open-addressing index at most half full, deletion by backward shift, whose 8-byte slots
// hold the entry's hash beside its index so that a probe reads no entry it will not match.
// At the default 100,000 entries that is 96 + 21 = 117 bytes per entry, measured by
// TestAPendingEntryTakesAtMost128Bytes and BenchmarkPendingEntryMemory with
// runtime.MemStats. Emitted items wait for the consumer in a ring of Config.QueueItems; a join
// that emits to Discard (a sink without an exporter) makes no items and has no ring.
//
// # Cost
//
// No input allocates. BenchmarkJoin measures the paths alone; BenchmarkSinkPathWithJoin
// measures what the join adds to the sink's decode-and-account path on the simulator's
// corpus. Run them with GOMAXPROCS=1:
//
//	GOMAXPROCS=1 go test -run '^$' -bench . -benchmem ./join/
package join
