package slo

import (
	"slices"
	"time"

	"github.com/edgetel/edgetel/model"
)

// Windows are the in-process burn-rate windows: those of the SRE workbook's multiwindow,
// multi-burn-rate table that the generated alerts use.
var Windows = [numWindows]time.Duration{
	5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour,
	24 * time.Hour, 72 * time.Hour,
}

// windowLabels are Windows as PromQL durations, the values of the window label.
var windowLabels = [numWindows]string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

const numWindows = 7

// DefaultSLOWindow is used for a route whose SLO has no window (the model normally fills
// in the platform's default).
const DefaultSLOWindow = 28 * 24 * time.Hour

// defaultBounds are the classic duration buckets every route gets; its latency thresholds
// are merged in. They reach down to 1ms because an edge answers local replies and cache
// hits in well under 5ms, where client_golang's DefBuckets start.
var defaultBounds = []time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
	5 * time.Second, 10 * time.Second,
}

// tierShape is one resolution of a route's time buckets: n slots of res nanoseconds,
// aligned to multiples of res since the Unix epoch so that every replica (and a PromQL
// evaluation at a slot boundary) cuts time at the same instants.
type tierShape struct {
	res int64 // nanoseconds, a multiple of the finest: the hot path checks only that one's head
	n   int64
}

// span is the longest window the tier can answer: one slot more than that is kept, because
// a window that does not start on a boundary needs part of its oldest slot.
func (t tierShape) span() int64 { return (t.n - 1) * t.res }

// fixedTiers serve the burn-rate windows with a slot at most 1/30 of each window:
// 10s×31 for 5m; 1m×61 for 30m and 1h; 4m×91 for 2h and 6h; 15m×289 for 1d and 3d.
var fixedTiers = [...]tierShape{
	{res: int64(10 * time.Second), n: 31},
	{res: int64(time.Minute), n: 61},
	{res: int64(4 * time.Minute), n: 91},
	{res: int64(15 * time.Minute), n: 289},
}

// maxSLOSlots bounds the SLO-window tier: its resolution grows in whole hours so that any
// window fits in at most 720 slots (+1), e.g. 1h for 28d or 30d, 3h for 90d.
const maxSLOSlots = 720

// sloTier returns the extra tier that a window longer than the fixed tiers needs.
func sloTier(window time.Duration) (tierShape, bool) {
	if int64(window) <= fixedTiers[len(fixedTiers)-1].span() {
		return tierShape{}, false
	}
	hours := (int64(window) + int64(maxSLOSlots*time.Hour) - 1) / int64(maxSLOSlots*time.Hour)
	res := hours * int64(time.Hour)
	return tierShape{res: res, n: (int64(window)+res-1)/res + 1}, true
}

// tierFor returns the index of the finest tier whose span covers w.
func tierFor(tiers []tierShape, w time.Duration) int {
	for i, t := range tiers {
		if t.span() >= int64(w) {
			return i
		}
	}
	return len(tiers) - 1
}

// routeSpec is what of a route's policy shapes its accounting state. Targets and names are
// not in it: they are read from the model in force whenever the state is read, so changing
// a target keeps every count.
type routeSpec struct {
	bounds     []int64 // classic bucket upper bounds, ns, ascending, distinct
	avail      bool    // the route has an availability objective: one bad-count column
	thresholds []int64 // distinct latency thresholds, ns, ascending: one bad-count column each
	window     time.Duration
}

func specOf(r *model.Route) routeSpec {
	s := routeSpec{bounds: make([]int64, 0, len(defaultBounds)+2)}
	for _, b := range defaultBounds {
		s.bounds = append(s.bounds, int64(b))
	}
	if r == nil || r.SLO == nil || len(r.SLO.Objectives) == 0 {
		return s
	}
	s.window = r.SLO.Window
	if s.window <= 0 {
		s.window = DefaultSLOWindow
	}
	for _, o := range r.SLO.Objectives {
		switch o.Indicator {
		case model.Availability:
			s.avail = true
		case model.Latency:
			s.thresholds = append(s.thresholds, int64(o.Threshold))
		}
	}
	slices.Sort(s.thresholds)
	s.thresholds = slices.Compact(s.thresholds)
	s.bounds = append(s.bounds, s.thresholds...)
	slices.Sort(s.bounds)
	s.bounds = slices.Compact(s.bounds)
	return s
}

func (s *routeSpec) equal(o *routeSpec) bool {
	return s.avail == o.avail && s.window == o.window &&
		slices.Equal(s.bounds, o.bounds) && slices.Equal(s.thresholds, o.thresholds)
}

// hasWindows reports whether the route needs time buckets (it has objectives).
func (s *routeSpec) hasWindows() bool { return s.window > 0 }

// width is the number of counters per time slot: requests, then the bad counts.
func (s *routeSpec) width() int {
	w := 1 + len(s.thresholds)
	if s.avail {
		w++
	}
	return w
}

// latencyCol0 is the column of the lowest latency threshold.
func (s *routeSpec) latencyCol0() int { return s.width() - len(s.thresholds) }

func (s *routeSpec) tiers() []tierShape {
	ts := append([]tierShape(nil), fixedTiers[:]...)
	if t, ok := sloTier(s.window); ok {
		ts = append(ts, t)
	}
	return ts
}

// objectiveColumn returns the bad-count column and the classic bucket (of the threshold)
// of an objective, and false for an indicator this package does not know.
func (s *routeSpec) objectiveColumn(o *model.Objective) (col, le int, ok bool) {
	switch o.Indicator {
	case model.Availability:
		return 1, -1, s.avail
	case model.Latency:
		j, found := slices.BinarySearch(s.thresholds, int64(o.Threshold))
		le, _ := slices.BinarySearch(s.bounds, int64(o.Threshold))
		return s.latencyCol0() + j, le, found
	}
	return 0, 0, false
}

// latencyBad returns, for each classic bucket, how many of the route's thresholds lie
// below it: a request in bucket b is bad for exactly the first latencyBad[b] thresholds,
// which is how the hot path classifies latency without comparing against each.
func (s *routeSpec) latencyBad() []int32 {
	out := make([]int32, len(s.bounds)+1)
	for b := range out {
		var n int32
		for _, t := range s.thresholds {
			if b > 0 && t <= s.bounds[b-1] {
				n++
			}
		}
		out[b] = n
	}
	return out
}
