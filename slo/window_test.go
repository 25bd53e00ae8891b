package slo

import (
	"math"
	"testing"
	"time"
)

// TestRingSum reads one 10s tier of a route with one bad-count column, filled with 10
// requests in each of the first six slots after t0, all of the third slot's bad.
func TestRingSum(t *testing.T) {
	shape := tierShape{res: int64(10 * time.Second), n: 31}
	base := t0.UnixNano()
	r := newRings([]tierShape{shape}, 2, base)
	for s := range int64(6) {
		now := base + s*shape.res + 1
		for range 10 {
			counts := []uint64{1, 0}
			if s == 2 {
				counts[1] = 1
			}
			r.add(now, now/shape.res, counts)
		}
	}
	at := func(d time.Duration) int64 { return base + int64(d) }
	tests := []struct {
		name        string
		from, to    int64
		events, bad float64
	}{
		{"a window at slot boundaries counts whole slots", at(30 * time.Second), at(time.Minute), 30, 0},
		{"a window reaching the bad slot counts it", at(20 * time.Second), at(time.Minute), 40, 10},
		{"a window starting mid-slot counts that slot pro rata", at(25 * time.Second), at(time.Minute), 35, 5},
		{"a window longer than the data counts what there is", at(-5 * time.Minute), at(time.Minute), 60, 10},
		{"an idle route reads nothing after its last slot", at(140 * time.Second), at(200 * time.Second), 0, 0},
		{"the slot in progress counts whole", at(50 * time.Second), at(55 * time.Second), 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, bad := r.tiers[0].sum(tt.from, tt.to, 1, r.width)
			if events != tt.events || bad != tt.bad {
				t.Errorf("sum = %v events, %v bad; want %v, %v", events, bad, tt.events, tt.bad)
			}
		})
	}
}

func TestRingReusesSlotsOlderThanItKeeps(t *testing.T) {
	shape := tierShape{res: int64(10 * time.Second), n: 31}
	base := t0.UnixNano()
	r := newRings([]tierShape{shape}, 2, base)
	for s := range int64(6) {
		now := base + s*shape.res
		r.add(now, now/shape.res, []uint64{1, 1})
	}
	// Slot 32 reuses the places of slots 0 and 1; slots 2 to 5 are still kept.
	now := base + 32*shape.res
	r.add(now, now/shape.res, []uint64{1, 0})
	events, bad := r.tiers[0].sum(base, now, 1, r.width)
	if events != 5 || bad != 4 {
		t.Errorf("after wrapping: %v events, %v bad; want 5, 4", events, bad)
	}
	// Far later, everything is gone.
	now = base + 1000*shape.res
	r.advance(now)
	if events, _ := r.tiers[0].sum(now-int64(5*time.Minute), now, 1, r.width); events != 0 {
		t.Errorf("after 1000 slots: %v events, want 0", events)
	}
}

func TestRingMemory(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		slots  int64
	}{
		{"a 28-day window keeps 1145 slots per column", 28 * 24 * time.Hour, 1145},
		{"a 30-day window keeps 1193 slots per column", 30 * 24 * time.Hour, 1193},
		{"a 3-day window needs no tier of its own", 72 * time.Hour, 472},
		{"a 90-day window keeps 1193 slots at 3h", 90 * 24 * time.Hour, 1193},
		{"a 365-day window keeps 1147 slots at 13h", 365 * 24 * time.Hour, 1147},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sloRoute("a/b", tt.window, availability999)
			spec := specOf(&r)
			rings := newRings(spec.tiers(), spec.width(), t0.UnixNano())
			var slots int64
			for k := range rings.tiers {
				slots += int64(len(rings.tiers[k].c)) / int64(rings.width)
			}
			if slots != tt.slots {
				t.Errorf("slots per column = %d, want %d (%d bytes)", slots, tt.slots, slots*8)
			}
			if slots > 1193 {
				t.Errorf("slots per column = %d, over the documented bound of 1193", slots)
			}
		})
	}
}

func TestWindowsUseTheFinestTierThatSpansThem(t *testing.T) {
	want := [numWindows]int{0, 1, 1, 2, 2, 3, 3}
	if windowTiers != want {
		t.Errorf("windowTiers = %v, want %v", windowTiers, want)
	}
	for k, w := range Windows {
		shape := fixedTiers[windowTiers[k]]
		if slots := int64(w) / shape.res; slots > 300 || slots < 30 {
			t.Errorf("window %v has %d slots of %v", w, slots, time.Duration(shape.res))
		}
	}
}

func approx(a, b float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}
