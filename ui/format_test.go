package ui

import (
	"math"
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtInt(0), "0"}, {fmtInt(999), "999"}, {fmtInt(1000), "1,000"}, {fmtInt(1234567), "1,234,567"},
		{fmtNum(5000), "5,000"}, {fmtNum(-7), "−7"}, {fmtNum(0.98765), "0.9877"}, {fmtNum(math.NaN()), "NaN"},
		{fmtBurn(0), "0×"}, {fmtBurn(0.004), "<0.01×"}, {fmtBurn(0.25), "0.25×"}, {fmtBurn(14.44), "14.4×"},
		{fmtBurn(190.4), "190×"}, {fmtBurn(math.Inf(1)), "∞×"},
		{fmtFactor(13.44), "13.44×"}, {fmtFactor(0.9333), "0.9333×"},
		{fmtPct(1), "100%"}, {fmtPct(0.999), "99.9%"}, {fmtPct(0.52512), "52.5%"}, {fmtPct(0.00021), "0.021%"},
		{fmtPct(-140.647), "−14,065%"}, {fmtPct(-0.5), "−50%"}, {fmtPct(-0.123), "−12.3%"},
		{fmtTarget(0.9995), "99.95%"}, {fmtTarget(0.5), "50%"},
		{fmtDur(300 * time.Millisecond), "300ms"}, {fmtDur(1200 * time.Millisecond), "1.2s"}, {fmtDur(850 * time.Microsecond), "850µs"},
		{fmtSpan(45 * time.Second), "45s"}, {fmtSpan(7 * time.Minute), "7m"}, {fmtSpan(3 * time.Hour), "3h"},
		{fmtSpan(3*time.Hour + 10*time.Minute), "3h10m"}, {fmtSpan(72 * time.Hour), "3d"},
		{fmtAgo(t0, t0.Add(time.Second)), "just now"}, {fmtAgo(t0, t0.Add(-90*time.Second)), "1m ago"},
		{fmtTime(t0), "2026-03-14 12:00:00Z"}, {fmtTime(time.Time{}), "–"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
