package slo

import (
	"time"

	"github.com/edgetel/edgetel/als"
)

// LocalFailureFlags are the Envoy response flags that make a request bad for availability
// whatever its status: each says the edge or the upstream failed to serve it. Many of them
// come with status 0 (no response was sent) or with a 200 whose body was cut short, so the
// status alone would miss them.
//
// Not in the set, because they say nothing against the service, or because the status
// already tells:
//   - DC, DO (downstream connection termination, downstream remote reset): the client went
//     away. A client that gave up on a slow response is the latency SLI's business.
//   - IH, DPE (invalid x-envoy-* request headers, downstream protocol error): the client sent
//     a bad request; Envoy answers 4xx.
//   - RL (rate limited): a deliberate 429 by policy, like any 4xx.
//   - DI (delay injected): the delay shows in the latency SLI; the request may succeed.
//   - FI (fault injected): the injected abort status decides; a 5xx counts through it.
//   - RLSE (rate-limit service error): with failure_mode_deny Envoy answers 500 and the
//     status counts it; fail-open requests carry the flag but were served.
//   - UAEX (ext_authz denied): a 403, or the configured error status, which then counts.
//   - LH (failed local health check): Envoy answers 503, which counts.
//   - RFCF (served from cache): a success.
const LocalFailureFlags = als.FlagNoHealthyUpstream | // UH
	als.FlagUpstreamRequestTimeout | // UT
	als.FlagLocalReset | // LR
	als.FlagUpstreamRemoteReset | // UR
	als.FlagUpstreamConnectionFailure | // UF
	als.FlagUpstreamConnectionTermination | // UC
	als.FlagUpstreamOverflow | // UO
	als.FlagNoRouteFound | // NR
	als.FlagUpstreamRetryLimitExceeded | // URX
	als.FlagStreamIdleTimeout | // SI
	als.FlagUpstreamMaxStreamDurationReached | // UMSDR
	als.FlagDurationTimeout | // DT
	als.FlagUpstreamProtocolError | // UPE
	als.FlagNoClusterFound | // NC
	als.FlagOverloadManager | // OM
	als.FlagDNSResolutionFailure | // DF
	als.FlagNoFilterConfigFound // NFCF

// AvailabilityGood reports whether a request counts as good for an availability objective:
// its status is not 5xx (nor above: a status outside HTTP's range is a broken response) and
// it carries no local-failure flag. Status 0 without such a flag (the client left before a
// response) is good: the denominator is every request, as DESIGN's SLI says.
func AvailabilityGood(status uint32, flags als.ResponseFlags) bool {
	return status < 500 && flags&LocalFailureFlags == 0
}

// LatencyGood reports whether a request of duration d counts as good for a latency
// objective with the given threshold. Every request counts by its duration, failed ones
// included, as Sloth's and Pyrra's latency SLIs do (good = histogram bucket le=threshold,
// total = histogram count): a fast failure is already bad for availability, and a slow
// failure is bad for both.
func LatencyGood(d, threshold time.Duration) bool { return d <= threshold }

// CodeClasses are the values of the code_class label, indexed by codeClass.
var CodeClasses = [numCodeClasses]string{"0", "1xx", "2xx", "3xx", "4xx", "5xx", "other"}

const numCodeClasses = 7

// codeClass maps a status to its index in CodeClasses: "0" is Envoy's status when no
// response was sent; "other" catches anything outside 100..599 so that a malformed entry
// cannot mint a label value.
func codeClass(status uint32) int {
	switch {
	case status == 0:
		return 0
	case status >= 100 && status < 600:
		return int(status / 100)
	default:
		return 6
	}
}
