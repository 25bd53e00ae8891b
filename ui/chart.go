package ui

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// pt is one value of a line at a time (Unix ns); NaN for none (no traffic, a counter reset).
type pt struct {
	t int64
	v float64
}

// line is a series to draw.
type line struct {
	name, class string
	pts         []pt
}

// ref is a horizontal line: a threshold or a budget.
type ref struct {
	label, class string
	v            float64
}

// chart is an SVG line chart, laid out here so that the template only places elements.
type chart struct {
	Title, Unit string
	W, H        int
	// Plot area in viewBox units.
	X0, Y0, X1, Y1 float64
	Lines          []chartLine
	Refs           []chartRef
	YTicks, XTicks []chartTick
	// Empty says why there is nothing to draw; the template then shows it instead.
	Empty string
}

type chartLine struct{ Name, Class, D, Last string }
type chartRef struct {
	Label, Class string
	Y            float64
}
type chartTick struct {
	Pos   float64
	Label string
}

const (
	chartW, chartH         = 560, 170
	padL, padR, padT, padB = 52.0, 12.0, 10.0, 22.0
)

// lineChart lays out lines over [from, to]. Values are drawn on a linear scale from zero to
// a round number above the highest value or reference line.
func lineChart(title, unit string, from, to int64, lines []line, refs []ref, f func(float64) string) chart {
	c := chart{Title: title, Unit: unit, W: chartW, H: chartH,
		X0: padL, Y0: padT, X1: chartW - padR, Y1: chartH - padB}
	buckets := int(c.X1-c.X0) / 2
	top := 0.0
	for i := range lines {
		lines[i].pts = downsample(lines[i].pts, from, to, buckets)
		for _, p := range lines[i].pts {
			if !math.IsNaN(p.v) && !math.IsInf(p.v, 0) {
				top = max(top, p.v)
			}
		}
	}
	for _, r := range refs {
		top = max(top, r.v)
	}
	if top == 0 {
		c.Empty = "no data yet: the first samples arrive every few seconds"
		return c
	}
	top = niceCeil(top * 1.05)
	x := func(t int64) float64 { return c.X0 + (c.X1-c.X0)*float64(t-from)/float64(max(to-from, 1)) }
	y := func(v float64) float64 { return c.Y1 - (c.Y1-c.Y0)*min(v, top)/top }
	for _, l := range lines {
		cl := chartLine{Name: l.name, Class: l.class, D: path(l.pts, x, y), Last: "–"}
		if n := len(l.pts); n > 0 && !math.IsNaN(l.pts[n-1].v) {
			cl.Last = f(l.pts[n-1].v)
		}
		c.Lines = append(c.Lines, cl)
	}
	for _, r := range refs {
		c.Refs = append(c.Refs, chartRef{Label: r.label, Class: r.class, Y: round1(y(r.v))})
	}
	for _, v := range []float64{0, top / 2, top} {
		c.YTicks = append(c.YTicks, chartTick{Pos: round1(y(v)), Label: f(v)})
	}
	for _, t := range timeTicks(from, to) {
		c.XTicks = append(c.XTicks, chartTick{Pos: round1(x(t)), Label: time.Unix(0, t).UTC().Format("15:04")})
	}
	return c
}

// downsample keeps at most n points: each the highest of the samples in its slice of
// [from, to], so that a spike is never averaged away.
func downsample(pts []pt, from, to int64, n int) []pt {
	if len(pts) <= n || n <= 0 {
		return pts
	}
	out := make([]pt, 0, n)
	width := float64(to-from) / float64(n)
	for _, p := range pts {
		b := int(float64(p.t-from) / width)
		if k := len(out) - 1; k >= 0 && int(float64(out[k].t-from)/width) == b {
			if math.IsNaN(out[k].v) || p.v > out[k].v {
				out[k].v = p.v
			}
			out[k].t = p.t
			continue
		}
		out = append(out, p)
	}
	return out
}

// path draws the points as an SVG path, lifting the pen over NaN.
func path(pts []pt, x func(int64) float64, y func(float64) float64) string {
	var b strings.Builder
	pen := false
	for _, p := range pts {
		if math.IsNaN(p.v) {
			pen = false
			continue
		}
		if pen {
			b.WriteString(" L")
		} else {
			b.WriteString(" M")
		}
		b.WriteString(strconv.FormatFloat(round1(x(p.t)), 'f', -1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(round1(y(p.v)), 'f', -1, 64))
		pen = true
	}
	return strings.TrimSpace(b.String())
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// timeTicks returns round times in [from, to], at most six of them.
func timeTicks(from, to int64) []int64 {
	steps := []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
		15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour}
	step := int64(steps[len(steps)-1])
	for _, s := range steps {
		if (to-from)/int64(s) <= 5 {
			step = int64(s)
			break
		}
	}
	var out []int64
	for t := (from/step + 1) * step; t <= to; t += step {
		out = append(out, t)
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// spark is an inline sparkline of a burn rate with its page threshold.
type spark struct {
	W, H   int
	D      string
	RefY   float64
	HasRef bool
	Empty  bool
	Label  string // for screen readers: what the line shows
}

const sparkW, sparkH = 120, 26

// sparkline draws pts over [from, to] on a scale that always shows the threshold ref.
func sparkline(pts []pt, from, to int64, refV float64, label string) spark {
	s := spark{W: sparkW, H: sparkH, Label: label}
	pts = downsample(pts, from, to, sparkW/2)
	top := refV * 1.25
	drawn := false
	for _, p := range pts {
		if !math.IsNaN(p.v) && !math.IsInf(p.v, 0) {
			top, drawn = max(top, p.v), true
		}
	}
	if !drawn || top <= 0 {
		s.Empty = true
		return s
	}
	x := func(t int64) float64 { return 1 + float64(sparkW-2)*float64(t-from)/float64(max(to-from, 1)) }
	y := func(v float64) float64 { return sparkH - 2 - float64(sparkH-4)*min(v, top)/top }
	s.D = path(pts, x, y)
	if refV > 0 {
		s.RefY, s.HasRef = round1(y(refV)), true
	}
	return s
}
