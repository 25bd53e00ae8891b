package sim

import (
	"encoding/hex"
	"maps"
	"sync"
	"time"

	"github.com/edgetel/edgetel/model"
)

// Truth is what the fleet sent, exactly, as it knows it by construction: each request's
// route, status, flags and whether it is bad, decided when it was made.
//
// An entry counts in Routes once gRPC's Send accepted the message that carried it (with OTLP
// logs, once the Export that carried it succeeded). ALS has no acknowledgement, so Routes
// is exactly what the sink received when Exact reports true: every stream was closed
// cleanly, so the server read everything sent on it. A test runs
// Fleet.SendN (or Start, then Shutdown), checks Exact, then compares Routes with what the
// sink counted.
type Truth struct {
	// Routes by model route name, and model.UnmatchedRoute for requests that matched none.
	Routes map[string]RouteTruth
	// Nodes by node ID.
	Nodes map[string]NodeTruth
	// Totals over the nodes.
	Generated, Sent, Lost, Unconfirmed uint64
	// Stats is the sum of the stats deltas sent, by cluster then stat name
	// ("cluster.upstream_rq_total"...): what the metrics service received, when Exact.
	Stats map[string]map[string]uint64
	// Totals over the nodes of their stats flushes and spans (see NodeTruth).
	StatsFlushes, StatsLost, StatsUnconfirmed uint64
	SpansSent, SpansLost                      uint64
	// OpenStreams is how many streams are open now, access-log and metrics-service.
	OpenStreams int
}

// Exact reports whether Routes and Stats are exactly what the server received: no stream
// is open and nothing was sent on a stream that then broke. SpansSent is always exact: an
// Export succeeded only once the server took the spans.
func (t Truth) Exact() bool {
	return t.OpenStreams == 0 && t.Unconfirmed == 0 && t.StatsUnconfirmed == 0
}

// RouteTruth counts the entries of one route that were sent.
type RouteTruth struct {
	Requests  uint64
	Status5xx uint64
	// Bad counts requests bad for availability: a 5xx or an Envoy-local failure flag.
	Bad uint64
	// Codes counts requests by response code.
	Codes map[uint32]uint64
	// Flags counts requests by Envoy's short flag code ("UF", "NR"...); none for no flag.
	Flags map[string]uint64
	// Latency by objective name, for the route's latency objectives.
	Latency map[string]LatencyTruth
}

// LatencyTruth counts one latency objective.
type LatencyTruth struct {
	Threshold time.Duration
	// Good counts requests whose duration is at or under Threshold.
	Good uint64
	// SlowTraceIDs holds the trace IDs (32 lower-case hex digits, as in traceparent) of the
	// most recent requests over Threshold, at most Config.MaxSlowTraceIDs of them: what an
	// exemplar on a slow bucket must be one of.
	SlowTraceIDs map[string]struct{}
}

// NodeTruth counts one node's entries and streams.
type NodeTruth struct {
	// Generated entries: requests the node served and logged.
	Generated uint64
	// Sent entries: Send accepted them.
	Sent uint64
	// Lost entries: dropped as Envoy drops them, in a batch whose Send failed or flushed
	// while the node had no stream.
	Lost uint64
	// Unconfirmed entries: sent on a stream that then broke; the sink may or may not have
	// them.
	Unconfirmed uint64
	// Streams opened, and Failures: streams that broke or did not close cleanly.
	Streams, Failures int
	// LastError is the last stream error, for a person to read.
	LastError string

	// StatsFlushes sent on a metrics-service stream (Send accepted them); StatsLost flushes
	// dropped, as Envoy drops them, when no stream could be opened or Send failed (their
	// deltas are lost); StatsUnconfirmed flushes sent on a stream that then broke.
	StatsFlushes, StatsLost, StatsUnconfirmed uint64
	// StatsStreams opened, StatsFailures: streams that could not be opened or broke.
	StatsStreams, StatsFailures int
	// SpansSent: spans of sampled requests in Exports that succeeded; SpansLost: in Exports
	// that failed, never retried.
	SpansSent, SpansLost uint64
	// LastSignalError is the last metrics-service or OTLP error, for a person to read.
	LastSignalError string
}

// outcome is what the truth needs of one entry, kept with its batch until it is sent.
type outcome struct {
	route    *model.Route // nil: unmatched
	status   uint32
	flags    Flags
	bad      bool
	duration time.Duration
	traceID  [16]byte
}

func outcomeOf(r *Request) outcome {
	return outcome{route: r.Route, status: r.Status, flags: r.Flags, bad: r.Bad(),
		duration: r.Duration, traceID: r.TraceID}
}

// recorder keeps the truth as the nodes report it. It is safe for concurrent use.
type recorder struct {
	mu      sync.Mutex
	routes  map[string]*routeTally
	nodes   map[string]*NodeTruth
	stats   map[statKey]uint64
	open    int
	maxSlow int
}

type routeTally struct {
	RouteTruth
	objectives []objectiveTally
}

type objectiveTally struct {
	name      string
	threshold time.Duration
	good      uint64
	slow      traceRing
}

func newRecorder(maxSlow int) *recorder {
	return &recorder{routes: map[string]*routeTally{}, nodes: map[string]*NodeTruth{}, stats: map[statKey]uint64{},
		maxSlow: maxSlow}
}

func (rec *recorder) node(id string) *NodeTruth {
	n := rec.nodes[id]
	if n == nil {
		n = &NodeTruth{}
		rec.nodes[id] = n
	}
	return n
}

// lost records a batch dropped; every generated entry ends up sent or lost.
func (rec *recorder) lost(node string, n int) {
	rec.mu.Lock()
	nt := rec.node(node)
	nt.Generated += uint64(n)
	nt.Lost += uint64(n)
	rec.mu.Unlock()
}

// failed records a stream that could not be opened, or broke before it carried anything.
func (rec *recorder) failed(node string, err error) {
	rec.mu.Lock()
	nt := rec.node(node)
	nt.Failures++
	nt.LastError = err.Error()
	rec.mu.Unlock()
}

func (rec *recorder) streamOpened(node string) {
	rec.mu.Lock()
	rec.node(node).Streams++
	rec.open++
	rec.mu.Unlock()
}

// streamClosed records the end of a stream that carried sent entries; err is nil for a
// clean close.
func (rec *recorder) streamClosed(node string, sent uint64, err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.open--
	if err == nil {
		return
	}
	nt := rec.node(node)
	nt.Failures++
	nt.Unconfirmed += sent
	nt.LastError = err.Error()
}

// sent records the entries of a message that Send accepted.
func (rec *recorder) sent(node string, outs []outcome) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	nt := rec.node(node)
	nt.Generated += uint64(len(outs))
	nt.Sent += uint64(len(outs))
	for i := range outs {
		rec.record(&outs[i])
	}
}

func (rec *recorder) record(o *outcome) {
	name := model.UnmatchedRoute
	if o.route != nil {
		name = o.route.Name
	}
	t := rec.routes[name]
	if t == nil {
		t = newRouteTally(o.route, rec.maxSlow)
		rec.routes[name] = t
	}
	t.Requests++
	t.Codes[o.status]++
	if o.status >= 500 {
		t.Status5xx++
	}
	if o.bad {
		t.Bad++
	}
	if o.flags != 0 {
		t.Flags[o.flags.String()]++
	}
	var id string
	for i := range t.objectives {
		ot := &t.objectives[i]
		if o.duration <= ot.threshold {
			ot.good++
			continue
		}
		if id == "" {
			id = hex.EncodeToString(o.traceID[:])
		}
		ot.slow.add(id)
	}
}

func newRouteTally(r *model.Route, maxSlow int) *routeTally {
	t := &routeTally{RouteTruth: RouteTruth{Codes: map[uint32]uint64{}, Flags: map[string]uint64{}}}
	if r == nil || r.SLO == nil {
		return t
	}
	for _, o := range r.SLO.Objectives {
		if o.Indicator == model.Latency {
			t.objectives = append(t.objectives, objectiveTally{name: o.Name, threshold: o.Threshold,
				slow: traceRing{max: maxSlow, set: map[string]struct{}{}}})
		}
	}
	return t
}

// snapshot returns a deep copy of the truth.
func (rec *recorder) snapshot() Truth {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	t := Truth{Routes: make(map[string]RouteTruth, len(rec.routes)), Nodes: make(map[string]NodeTruth, len(rec.nodes)),
		OpenStreams: rec.open}
	for name, rt := range rec.routes {
		c := rt.RouteTruth
		c.Codes, c.Flags = maps.Clone(rt.Codes), maps.Clone(rt.Flags)
		c.Latency = make(map[string]LatencyTruth, len(rt.objectives))
		for _, o := range rt.objectives {
			c.Latency[o.name] = LatencyTruth{Threshold: o.threshold, Good: o.good, SlowTraceIDs: maps.Clone(o.slow.set)}
		}
		t.Routes[name] = c
	}
	for id, n := range rec.nodes {
		t.Nodes[id] = *n
		t.Generated += n.Generated
		t.Sent += n.Sent
		t.Lost += n.Lost
		t.Unconfirmed += n.Unconfirmed
		t.StatsFlushes += n.StatsFlushes
		t.StatsLost += n.StatsLost
		t.StatsUnconfirmed += n.StatsUnconfirmed
		t.SpansSent += n.SpansSent
		t.SpansLost += n.SpansLost
	}
	t.Stats = map[string]map[string]uint64{}
	for k, v := range rec.stats {
		if t.Stats[k.cluster] == nil {
			t.Stats[k.cluster] = map[string]uint64{}
		}
		t.Stats[k.cluster][k.name] = v
	}
	return t
}

// traceRing is a set of the most recent max trace IDs: recent, because exemplars are.
type traceRing struct {
	ids  []string
	next int
	max  int
	set  map[string]struct{}
}

func (r *traceRing) add(id string) {
	if _, dup := r.set[id]; dup || r.max <= 0 {
		return
	}
	if len(r.ids) < r.max {
		r.ids = append(r.ids, id)
	} else {
		delete(r.set, r.ids[r.next])
		r.ids[r.next] = id
		r.next = (r.next + 1) % r.max
	}
	r.set[id] = struct{}{}
}
