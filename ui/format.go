package ui

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/edgetel/edgetel/slo"
)

// Formatting of the numbers on the pages. Every figure is written the way a person reads it
// at a glance; the exact value goes in a title attribute where rounding could mislead.

// fmtInt writes n with thousands separators: 1,234,567.
func fmtInt(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// fmtNum writes a metric value: whole numbers with separators, others with up to four
// significant digits.
func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "−Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		if v < 0 {
			return "−" + fmtInt(uint64(-v))
		}
		return fmtInt(uint64(v))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// fmtBurn writes a burn rate: 0.25×, 3.1×, 140×.
func fmtBurn(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "∞×"
	case v == 0:
		return "0×"
	case v < 0.01:
		return "<0.01×"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "×"
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64) + "×"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "×"
}

// fmtFactor writes an alert's burn-rate factor exactly as the rules have it: 13.44×.
func fmtFactor(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) + "×" }

// fmtPct writes a ratio as a percentage with the precision it needs: 99.95%, 0.021%,
// −14,065% (a budget overspent 140 times).
func fmtPct(r float64) string {
	p := r * 100
	var s string
	switch {
	case math.IsNaN(p):
		return "–"
	case math.IsInf(p, 0) || math.Abs(p) >= 1000:
		return fmtNum(math.Round(p)) + "%"
	case p == math.Trunc(p):
		s = strconv.FormatFloat(p, 'f', 0, 64)
	case math.Abs(p) >= 10:
		s = strconv.FormatFloat(p, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(p, 'g', 3, 64)
	}
	return strings.Replace(s, "-", "−", 1) + "%"
}

// fmtTarget writes an objective's target as its policy does: 99.9%.
func fmtTarget(t float64) string {
	return strconv.FormatFloat(math.Round(t*1e8)/1e6, 'f', -1, 64) + "%"
}

// fmtDur writes a latency: 300ms, 1.2s, 850µs.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'g', 3, 64) + "s"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'g', 3, 64) + "ms"
	}
	return strconv.FormatFloat(float64(d)/1e3, 'g', 3, 64) + "µs"
}

// fmtWindow writes a window as the alerts and rules name it: 5m, 1h, 28d.
func fmtWindow(d time.Duration) string { return slo.PromDuration(d) }

// fmtTime writes an instant in UTC, to the second.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// fmtAgo writes how long before now t was: 12s ago, 3m ago, 2h5m ago.
func fmtAgo(now, t time.Time) string {
	if d := now.Sub(t); d >= 0 {
		return fmtSpan(d) + " ago"
	}
	return "just now"
}

// fmtSpan writes a length of time coarsely: 45s, 12m, 3h20m, 2d.
func fmtSpan(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return strconv.Itoa(h) + "h"
		}
		return strconv.Itoa(h) + "h" + strconv.Itoa(m) + "m"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}
