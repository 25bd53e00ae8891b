package als

import "strings"

// Response flags, each the bit of its field number in envoy.data.accesslog.v3.ResponseFlags
// (bit = 1 << (field-1)), with the short code Envoy prints for %RESPONSE_FLAGS%.
const (
	FlagFailedLocalHealthCheck           ResponseFlags = 1 << iota // LH
	FlagNoHealthyUpstream                                          // UH
	FlagUpstreamRequestTimeout                                     // UT
	FlagLocalReset                                                 // LR
	FlagUpstreamRemoteReset                                        // UR
	FlagUpstreamConnectionFailure                                  // UF
	FlagUpstreamConnectionTermination                              // UC
	FlagUpstreamOverflow                                           // UO
	FlagNoRouteFound                                               // NR
	FlagDelayInjected                                              // DI
	FlagFaultInjected                                              // FI
	FlagRateLimited                                                // RL
	FlagUnauthorizedDetails                                        // UAEX (a message on the wire; set when present)
	FlagRateLimitServiceError                                      // RLSE
	FlagDownstreamConnectionTermination                            // DC
	FlagUpstreamRetryLimitExceeded                                 // URX
	FlagStreamIdleTimeout                                          // SI
	FlagInvalidEnvoyRequestHeaders                                 // IH
	FlagDownstreamProtocolError                                    // DPE
	FlagUpstreamMaxStreamDurationReached                           // UMSDR
	FlagResponseFromCacheFilter                                    // RFCF
	FlagNoFilterConfigFound                                        // NFCF
	FlagDurationTimeout                                            // DT
	FlagUpstreamProtocolError                                      // UPE
	FlagNoClusterFound                                             // NC
	FlagOverloadManager                                            // OM
	FlagDNSResolutionFailure                                       // DF
	FlagDownstreamRemoteReset                                      // DO

	// flagCount is the number of flags known to this build.
	flagCount = iota
)

var flagCodes = [flagCount]string{
	"LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE",
	"DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO",
}

// String renders the flags as Envoy's %RESPONSE_FLAGS% does: short codes joined by ",",
// or "-" when none is set.
func (f ResponseFlags) String() string {
	if f == 0 {
		return "-"
	}
	var b strings.Builder
	for i := 0; i < flagCount; i++ {
		if f&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(flagCodes[i])
	}
	return b.String()
}

// FlagByCode returns the flag with Envoy's short code, e.g. "UF".
func FlagByCode(code string) (ResponseFlags, bool) {
	for i, c := range flagCodes {
		if c == code {
			return 1 << i, true
		}
	}
	return 0, false
}
