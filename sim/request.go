package sim

import (
	"time"

	"github.com/edgetel/edgetel/model"
)

// Request is one request through an Envoy node, as the generator decided it: the facts from
// which its access-log entry is rendered (and, later, its span and the node's stats), so
// that every signal about it agrees.
type Request struct {
	// Route is the route the request matched; nil when it matched none.
	Route *model.Route
	// RouteName is Route.Name, or model.UnmatchedRoute: the key the truth counts it under.
	RouteName string

	Start    time.Time
	Duration time.Duration // first downstream byte received to last downstream byte sent

	Protocol  string // "HTTP/1.1" or "HTTP/2"
	Method    string
	Scheme    string
	Authority string
	Path      string // query string included
	UserAgent string
	// ForwardedFor is the x-forwarded-for header; empty when the client came direct.
	ForwardedFor string
	// ClientIP is the client's address, PeerIP the address of the connection's peer: the
	// client's own, or the CDN in front of it (then ClientIP comes from x-forwarded-for).
	ClientIP   string
	PeerIP     string
	ClientPort uint32 // of the peer's connection

	RequestID string
	TraceID   [16]byte
	SpanID    [8]byte
	Sampled   bool

	Status   uint32
	Flags    Flags
	Cause    Cause
	Attempts uint32 // upstream attempts, retries included; 0 when no upstream was tried
	// UpstreamHost and UpstreamPort are the upstream host picked; empty when none was.
	UpstreamHost string
	UpstreamPort uint32

	RequestHeaderBytes  uint64
	RequestBodyBytes    uint64
	ResponseHeaderBytes uint64
	ResponseBodyBytes   uint64

	// Incident is true when a scheduled incident shaped the request.
	Incident bool
}

// Bad reports whether the request is bad for availability: a 5xx or an Envoy-local failure.
func (r *Request) Bad() bool { return r.Cause.Bad() }

// Cause is why a request ended as it did; the generator picks it first and derives the
// status, flags and timings from it, so the truth never has to guess.
type Cause uint8

// Causes. Those from CauseUpstreamError on are bad for availability.
const (
	CauseOK               Cause = iota // the upstream answered 2xx
	CauseClientError                   // the upstream answered 4xx
	CauseUpstreamError                 // the upstream answered 5xx; Envoy sets no flag
	CauseConnectFailure                // 503 UF: Envoy could not connect to the upstream
	CauseOverflow                      // 503 UO: the cluster's circuit breaker overflowed
	CauseTimeout                       // 504 UT: the route timeout fired
	CauseRetriesExhausted              // 503 URX: every retry failed
	CauseNoRoute                       // 404 NR: no route matched
	causeCount
)

var causeNames = [causeCount]string{"ok", "client_error", "upstream_error", "connect_failure",
	"overflow", "timeout", "retries_exhausted", "no_route"}

func (c Cause) String() string {
	if c < causeCount {
		return causeNames[c]
	}
	return "unknown"
}

// Bad reports whether a request with this cause is bad for availability.
func (c Cause) Bad() bool { return c >= CauseUpstreamError }

// Envoy's local reply bodies and response code details for the failures it makes itself.
var causeReplies = [causeCount]struct {
	details string
	body    uint64
	flags   Flags
	status  uint32
}{
	CauseConnectFailure: {"upstream_reset_before_response_started{remote_connection_failure}", 91,
		FlagUF, 503},
	CauseOverflow:         {"upstream_reset_before_response_started{overflow}", 81, FlagUO, 503},
	CauseTimeout:          {"upstream_response_timeout", 24, FlagUT, 504},
	CauseRetriesExhausted: {"via_upstream", 0, FlagURX, 503},
	CauseNoRoute:          {"route_not_found", 0, FlagNR, 404},
}

// upstreamTried reports whether Envoy sent anything to an upstream host.
func (c Cause) upstreamTried() bool {
	return c != CauseConnectFailure && c != CauseOverflow && c != CauseNoRoute
}

// upstreamAnswered reports whether the response came from an upstream host.
func (c Cause) upstreamAnswered() bool { return c.upstreamTried() && c != CauseTimeout }
