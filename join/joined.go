package join

import (
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// Joined is what the join emits: a request's access-log record and its span, matched by
// request ID, or one of them alone, with the reason it went alone.
type Joined struct {
	// Reason is ReasonMatched for a pair, otherwise why the item went alone.
	Reason Reason
	// HasRecord and HasSpan say which of Record and Span hold something.
	HasRecord, HasSpan bool
	Record             Record
	Span               Span
	// Verdict is the record's against its route's objectives; zero without a record.
	Verdict Verdict
}

// Record is the part of an access-log record that the join keeps while it waits for the
// span: fixed-size values, owned by the Joined that holds them.
type Record struct {
	// RequestID is the record's request ID as the join keys it; HashedID is true when the
	// ID was not a UUID and RequestID is its hash, which String cannot show.
	RequestID RequestID
	HashedID  bool
	// Route is the route name from the model in force when the record arrived, or
	// model.UnmatchedRoute: as the SLI accounting names it, never a value from the record.
	Route string
	// TraceID and SpanID come from the logged traceparent, HasTrace is false without one.
	TraceID  [16]byte
	SpanID   [8]byte
	Sampled  bool
	HasTrace bool

	Start    time.Time
	Duration time.Duration
	// Status is the response code, at most 1023 (a value above is logged garbage, and
	// stays bad for availability).
	Status        uint32
	Flags         als.ResponseFlags
	BytesReceived uint64
	BytesSent     uint64
}

// Span is the part of a span that the join keeps while it waits for the record; the span
// itself reaches a forwarding consumer through the trace receiver (tracing.Batch).
type Span struct {
	RequestID    RequestID
	HashedID     bool
	TraceID      [16]byte
	SpanID       [8]byte
	ParentSpanID [8]byte
	Start, End   time.Time
}

// Verdict is how a request fared against the objectives of its route in the model in
// force when the item was emitted.
type Verdict struct {
	// Objectives are the route's objectives: shared and read-only; nil for a route
	// without objectives.
	Objectives []model.Objective
	// Broken has bit i set when the request broke Objectives[i] (of the first 64): a 5xx
	// or a local-failure flag for availability (slo.AvailabilityGood), a duration over the
	// threshold for latency (slo.LatencyGood).
	Broken uint64
}

// Bad reports whether the request broke any objective of its route.
func (v Verdict) Bad() bool { return v.Broken != 0 }

// BrokenNames lists the names of the objectives the request broke, in model order.
func (v Verdict) BrokenNames() []string {
	var out []string
	for i, o := range v.Objectives {
		if i < 64 && v.Broken&(1<<i) != 0 {
			out = append(out, o.Name)
		}
	}
	return out
}

// Reason says why the join emitted an item.
type Reason uint8

// Reasons. Every one but ReasonMatched is an item emitted alone.
const (
	ReasonMatched     Reason = iota // a record and its span
	ReasonExpired                   // no partner within the window
	ReasonEvicted                   // the pending table was full and this was the oldest
	ReasonNoRequestID               // nothing to join on
	ReasonNotSampled                // a record of a request Envoy did not trace: no span will come
	ReasonDuplicate                 // a later item of the same side had the same request ID
	ReasonShutdown                  // pending when the join stopped
	numReasons
)

var reasonNames = [numReasons]string{"matched", "expired", "evicted", "no_request_id",
	"not_sampled", "duplicate", "shutdown"}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Side is where an item came from: the access log or the trace receiver.
type Side uint8

// Sides.
const (
	SideLog Side = iota
	SideSpan
	numSides
)

var sideNames = [numSides]string{"log", "span"}

func (s Side) String() string {
	if s < numSides {
		return sideNames[s]
	}
	return "unknown"
}

// Consumer receives what the join emits, in batches, from the join's delivery goroutine:
// one call at a time. The slice belongs to the join and is reused once ConsumeJoined
// returns; the Joined values in it refer to no memory of the join but Verdict.Objectives,
// which is read-only, so a consumer keeps what it wants by copying the values. A slow
// consumer slows no receiver: batches wait in a bounded queue and are dropped, counted,
// when it is full.
type Consumer interface {
	ConsumeJoined(batch []Joined)
}

// ConsumerFunc adapts a function to a Consumer.
type ConsumerFunc func(batch []Joined)

// ConsumeJoined calls f(batch).
func (f ConsumerFunc) ConsumeJoined(batch []Joined) { f(batch) }

// Discard is a Consumer that drops everything: for a sink with no exporter of joined
// items, whose join still counts what it matches. A join that emits to Discard does not
// make the items at all: it only counts.
var Discard Consumer = discard{}

type discard struct{}

func (discard) ConsumeJoined([]Joined) {}
