package slo

import (
	"fmt"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
)

// allFlagCodes is every response flag that als knows, each classified below.
var allFlagCodes = []string{
	"LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE",
	"DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO",
}

// failureCodes are the flags that make a request bad whatever its status.
var failureCodes = map[string]bool{
	"UH": true, "UT": true, "LR": true, "UR": true, "UF": true, "UC": true, "UO": true,
	"NR": true, "URX": true, "SI": true, "UMSDR": true, "DT": true, "UPE": true, "NC": true,
	"OM": true, "DF": true, "NFCF": true,
}

func flagOf(t *testing.T, code string) als.ResponseFlags {
	t.Helper()
	f, ok := als.FlagByCode(code)
	if !ok {
		t.Fatalf("als knows no flag %q", code)
	}
	return f
}

func TestEveryFailureFlagIsBad(t *testing.T) {
	for _, code := range allFlagCodes {
		bad := failureCodes[code]
		for _, status := range []uint32{0, 200} {
			verdict := "good"
			if bad {
				verdict = "bad"
			}
			name := fmt.Sprintf("a %s flag with status %d is %s", code, status, verdict)
			t.Run(name, func(t *testing.T) {
				if got := AvailabilityGood(status, flagOf(t, code)); got == bad {
					t.Errorf("AvailabilityGood(%d, %s) = %v", status, code, got)
				}
			})
		}
	}
}

func TestLocalFailureFlagsIsExactlyTheDocumentedSet(t *testing.T) {
	var want als.ResponseFlags
	for code := range failureCodes {
		want |= flagOf(t, code)
	}
	if LocalFailureFlags != want {
		t.Errorf("LocalFailureFlags = %s, want %s", LocalFailureFlags, want)
	}
	var known als.ResponseFlags
	for _, code := range allFlagCodes {
		known |= flagOf(t, code)
	}
	// The flags are bits from 0 up: the bit after the known ones names a flag only if als
	// has grown one that this package has not classified.
	if s := (known + 1).String(); s != "" {
		t.Errorf("als has flag %s, unclassified here", s)
	}
}

func TestAvailability(t *testing.T) {
	tests := []struct {
		name   string
		status uint32
		flags  als.ResponseFlags
		good   bool
	}{
		{"a 200 with no flag is good", 200, 0, true},
		{"a 503 is bad", 503, 0, false},
		{"a 500 is bad", 500, 0, false},
		{"a 599 is bad", 599, 0, false},
		{"a status above 599 is bad", 600, 0, false},
		{"a 404 is good", 404, 0, true},
		{"a 429 from the rate limiter is good", 429, als.FlagRateLimited, true},
		{"a 499 is good", 499, 0, true},
		{"a status 0 with no flag is good", 0, 0, true},
		{"a status 0 after the client left is good", 0, als.FlagDownstreamConnectionTermination, true},
		{"a UF flag with status 0 is bad", 0, als.FlagUpstreamConnectionFailure, false},
		{"a 200 cut short by an upstream reset is bad", 200, als.FlagUpstreamRemoteReset, false},
		{"a 503 with fault injection is bad", 503, als.FlagFaultInjected, false},
		{"a 200 with an injected delay is good", 200, als.FlagDelayInjected, true},
		{"a 500 from a rate-limit service error is bad", 500, als.FlagRateLimitServiceError, false},
		{"a fail-open rate-limit service error that was served is good", 200, als.FlagRateLimitServiceError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AvailabilityGood(tt.status, tt.flags); got != tt.good {
				t.Errorf("AvailabilityGood(%d, %s) = %v, want %v", tt.status, tt.flags, got, tt.good)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	const threshold = 300 * time.Millisecond
	tests := []struct {
		name string
		d    time.Duration
		good bool
	}{
		{"a 200 at exactly the 300ms threshold is good", threshold, true},
		{"a request 1ns over the threshold is bad", threshold + 1, false},
		{"a request of 0s is good", 0, true},
		{"a request of 10s is bad", 10 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LatencyGood(tt.d, threshold); got != tt.good {
				t.Errorf("LatencyGood(%v, %v) = %v, want %v", tt.d, threshold, got, tt.good)
			}
		})
	}
}

func TestCodeClass(t *testing.T) {
	tests := []struct {
		status uint32
		want   string
	}{
		{0, "0"}, {100, "1xx"}, {204, "2xx"}, {301, "3xx"}, {404, "4xx"}, {503, "5xx"},
		{599, "5xx"}, {600, "other"}, {99, "other"}, {1 << 31, "other"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("status %d is class %s", tt.status, tt.want), func(t *testing.T) {
			if got := CodeClasses[codeClass(tt.status)]; got != tt.want {
				t.Errorf("class of %d = %s", tt.status, got)
			}
		})
	}
}
