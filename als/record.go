package als

import (
	"bytes"
	"strconv"
	"time"

	"github.com/edgetel/edgetel/model"
)

// Record is one HTTP request as Envoy logged it, decoded once into typed fields.
//
// Byte-slice fields are views into the gRPC message the record was decoded from: they are
// valid only until the Consumer that receives the record returns. A consumer that keeps a
// record beyond that (the join, the Loki exporter) copies what it keeps (see Record.Clone).
// Fixed-size fields (IDs, times, numbers) are values and need no copy.
type Record struct {
	// Node is the Envoy node ID of the stream, NodeCluster its node cluster (--service-cluster:
	// the node group, e.g. "edge"), LogName the access logger's log_name.
	Node        []byte
	NodeCluster []byte
	LogName     []byte

	// RouteName is Envoy's route_name, namespace/name for edgetel routes; empty when the
	// request matched no route.
	RouteName []byte
	// Model is the model the receiver resolved RouteName in, nil when it had none; Route is
	// the route's position in Model.Routes plus one, 0 when RouteName names none of them.
	// Consumers read both through RouteIn.
	Model *model.Edge
	Route int32
	// UpstreamCluster is the cluster the request was routed to.
	UpstreamCluster []byte
	// UpstreamHost is the upstream host, when one was picked: render it with Append.
	UpstreamHost HostPort

	Method    []byte
	Authority []byte
	Path      []byte // as received, query string included: redact before export
	UserAgent []byte

	Status   uint32
	Flags    ResponseFlags
	Start    time.Time
	Duration time.Duration // first downstream byte received to last downstream byte sent

	// BytesReceived is the request's header plus body bytes, BytesSent the response's, as
	// Envoy counts them for HTTP: without framing, TLS or compression overhead.
	BytesReceived uint64
	BytesSent     uint64

	// RequestID is the x-request-id Envoy generated or forwarded, as logged.
	RequestID []byte
	// HasTrace and Sampled come from the logged traceparent header (or an OTLP record's
	// trace context): HasTrace is false when there was none or it was malformed. Trace
	// returns the IDs.
	Sampled  bool
	HasTrace bool
	ids      traceIDs
}

// traceIDs are a record's trace and span IDs, or the traceparent they are still to be read
// from. A receiver checks each traceparent it is given but leaves its 48 hex digits be:
// most records are of requests Envoy did not sample, whose IDs most consumers never read.
type traceIDs struct {
	traceparent []byte // checked by checkTraceparent; a view, like the record's byte fields
	trace       [16]byte
	span        [8]byte
}

// Trace returns the record's trace and span IDs, zero when it has none (!HasTrace). For a
// record of a traceparent it decodes them, each call: a consumer that reads them more than
// once keeps them.
func (r *Record) Trace() (trace [16]byte, span [8]byte) {
	if !r.HasTrace {
		return trace, span
	}
	return r.ids.decode()
}

func (t *traceIDs) decode() (trace [16]byte, span [8]byte) {
	if t.traceparent != nil {
		return traceparentIDs(t.traceparent)
	}
	return t.trace, t.span
}

// SetTrace gives the record the trace context of IDs and a sampled flag, as an OTLP
// record carries them.
func (r *Record) SetTrace(trace [16]byte, span [8]byte, sampled bool) {
	r.ids = traceIDs{trace: trace, span: span}
	r.Sampled, r.HasTrace = sampled, true
}

// SetTraceparent gives the record the trace context of a W3C traceparent header's value,
// keeping v (a view) to decode the IDs from when Trace is called. A value the
// specification says to ignore (see checkTraceparent) leaves the record without (HasTrace
// false).
func (r *Record) SetTraceparent(v []byte) {
	sampled, ok := checkTraceparent(v)
	r.ids, r.Sampled, r.HasTrace = traceIDs{}, sampled, ok
	if ok {
		r.ids.traceparent = v
	}
}

// Clone returns a copy of r that owns all its bytes, in one allocation, with its trace IDs
// decoded.
func (r *Record) Clone() Record {
	c := *r
	n := len(r.Node) + len(r.NodeCluster) + len(r.LogName) + len(r.RouteName) + len(r.UpstreamCluster) +
		len(r.UpstreamHost.Host) + len(r.Method) + len(r.Authority) + len(r.Path) +
		len(r.UserAgent) + len(r.RequestID)
	buf := make([]byte, 0, n)
	own := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	c.Node, c.NodeCluster, c.LogName = own(r.Node), own(r.NodeCluster), own(r.LogName)
	c.RouteName, c.UpstreamCluster, c.UpstreamHost.Host = own(r.RouteName), own(r.UpstreamCluster), own(r.UpstreamHost.Host)
	c.Method, c.Authority, c.Path, c.UserAgent = own(r.Method), own(r.Authority), own(r.Path), own(r.UserAgent)
	c.RequestID = own(r.RequestID)
	c.ids = traceIDs{} // no view of the message left behind, even unread
	if c.HasTrace {
		trace, span := r.Trace()
		c.SetTrace(trace, span, r.Sampled)
	}
	return c
}

// HostPort is an upstream host as Envoy logged it: Host alone ("ip:port" already joined, a
// pipe path, or an address with a named port) or, when HasPort, Host and Port to join.
//
// Envoy sends an address and its port apart; the decoder keeps them apart, so that the
// records of consumers that never print the host (most of them) cost no formatting.
type HostPort struct {
	Host    []byte // a view, like the record's other byte fields
	Port    uint32 // 0 unless HasPort
	HasPort bool
}

// Append appends the host as net.JoinHostPort would render it, "ip:port" ("[ip]:port" when
// the address contains ':', as IPv6 does), or Host alone without a port. It allocates only
// when dst lacks the room.
func (h HostPort) Append(dst []byte) []byte {
	var tail portTail
	before, after := h.around(&tail)
	return append(append(append(dst, before...), h.Host...), after...)
}

// Copy copies the host as Append renders it into dst, as much of it as fits, and returns
// the number of bytes copied, as the built-in copy does: for fixed-size storage, which an
// append past its end would leave for a new allocation. A long host (from a hostile
// sender: an IP literal joined with a port fits in 64 bytes) needs no scratch memory.
func (h HostPort) Copy(dst []byte) int {
	var tail portTail
	before, after := h.around(&tail)
	n := copy(dst, before)
	n += copy(dst[n:], h.Host)
	return n + copy(dst[n:], after)
}

// portTail holds what follows the host in the longest rendering.
type portTail [len("]:4294967295")]byte

// around is the rendering's rule: what goes before Host and, written into tail, what goes
// after it.
func (h HostPort) around(tail *portTail) (before string, after []byte) {
	if !h.HasPort {
		return "", nil
	}
	after = tail[:0]
	if bytes.IndexByte(h.Host, ':') >= 0 {
		before, after = "[", append(after, ']')
	}
	return before, strconv.AppendUint(append(after, ':'), uint64(h.Port), 10)
}

// IsZero reports whether no host was logged: Append would render nothing.
func (h HostPort) IsZero() bool { return len(h.Host) == 0 && !h.HasPort }

// ResponseFlags is Envoy's set of response flags (envoy.data.accesslog.v3.ResponseFlags) as
// a bit set, bit i being the flag with field number i+1 in that message.
type ResponseFlags uint64

// Consumer receives decoded records in batches. The slice and every byte slice inside its
// records belong to the caller and are reused once ConsumeRecords returns: a consumer copies
// what it keeps. ConsumeRecords must not block for long: the Receiver calls it from its
// delivery goroutines (ReceiverConfig.Workers, one by default, so that calls do not
// overlap), and while it runs, later batches wait in a bounded queue that drops them,
// counted, when full.
type Consumer interface {
	ConsumeRecords(batch []Record)
}

// ConsumerFunc adapts a function to a Consumer.
type ConsumerFunc func(batch []Record)

// ConsumeRecords calls f(batch).
func (f ConsumerFunc) ConsumeRecords(batch []Record) { f(batch) }

var _ Consumer = ConsumerFunc(nil)
