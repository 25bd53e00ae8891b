package slo

import (
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
)

// feed sends one batch every step from start to end (exclusive), each of n requests of 100ms
// to route, of which the first bad(t) are 503s and the next slow(t) take 1s.
func feed(a *Accountant, c *fakeClock, route string, start, end, step time.Duration, n int,
	bad, slow func(at time.Duration) int) {
	batch := make([]als.Record, n)
	for at := start; at < end; at += step {
		c.set(t0.Add(at))
		nb, ns := 0, 0
		if bad != nil {
			nb = bad(at)
		}
		if slow != nil {
			ns = slow(at)
		}
		for i := range batch {
			status, d := uint32(200), 100*time.Millisecond
			if i < nb {
				status = 503
			} else if i < nb+ns {
				d = time.Second
			}
			batch[i] = rec(route, status, 0, d)
		}
		a.ConsumeRecords(batch)
	}
}

func constant(k int) func(time.Duration) int { return func(time.Duration) int { return k } }

// after returns k from offset on, 0 before.
func after(offset time.Duration, k int) func(time.Duration) int {
	return func(at time.Duration) int {
		if at >= offset {
			return k
		}
		return 0
	}
}

type windowWant struct {
	window time.Duration
	burn   float64
	filled bool
}

func checkWindows(t *testing.T, o ObjectiveStatus, want []windowWant) {
	t.Helper()
	for _, w := range want {
		for _, got := range append(o.BurnRates[:], o.SLOWindow) {
			if got.Window != w.window {
				continue
			}
			if !approx(got.BurnRate, w.burn) || got.Filled != w.filled {
				t.Errorf("%s over %v: burn %.6g filled %v (%v events, %v bad); want %.6g, %v",
					o.Name, w.window, got.BurnRate, got.Filled, got.Events, got.Bad, w.burn, w.filled)
			}
		}
	}
}

func TestBurnRates(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name       string
		objective  string
		feed       func(a *Accountant, c *fakeClock)
		readAt     time.Duration
		want       []windowWant
		wantBudget float64
	}{{
		name:      "1% errors for the last 10 of 30 minutes on a 99.9% objective burn 10 over 5m and 3.33 over 30m",
		objective: "availability",
		feed: func(a *Accountant, c *fakeClock) {
			feed(a, c, "shop/checkout", 0, 30*m, time.Second, 100, after(20*m, 1), nil)
		},
		readAt: 30 * m,
		want: []windowWant{
			{5 * m, 10, true}, {30 * m, 10.0 / 3, true}, {time.Hour, 10.0 / 3, false},
			{72 * time.Hour, 10.0 / 3, false}, {28 * 24 * time.Hour, 10.0 / 3, false},
		},
		wantBudget: 1 - 10.0/3,
	}, {
		name:      "2% of requests over the threshold for 10 minutes on a 99% objective burn 2",
		objective: "latency",
		feed: func(a *Accountant, c *fakeClock) {
			feed(a, c, "shop/checkout", 0, 10*m, time.Second, 100, nil, constant(2))
		},
		readAt:     10 * m,
		want:       []windowWant{{5 * m, 2, true}, {30 * m, 2, false}},
		wantBudget: -1,
	}, {
		name:      "5xx errors do not burn the latency budget",
		objective: "latency",
		feed: func(a *Accountant, c *fakeClock) {
			feed(a, c, "shop/checkout", 0, 10*m, time.Second, 100, constant(50), nil)
		},
		readAt:     10 * m,
		want:       []windowWant{{5 * m, 0, true}},
		wantBudget: 1,
	}, {
		name:      "a route without traffic burns nothing and keeps its whole budget",
		objective: "availability",
		feed:      func(*Accountant, *fakeClock) {},
		readAt:    2 * time.Hour,
		want:      []windowWant{{5 * m, 0, true}, {time.Hour, 0, true}, {24 * time.Hour, 0, false}},

		wantBudget: 1,
	}, {
		name:      "errors that ended 6 minutes ago have left the 5m window but not the 30m one",
		objective: "availability",
		feed: func(a *Accountant, c *fakeClock) {
			feed(a, c, "shop/checkout", 0, 24*m, time.Second, 100, constant(1), nil)
			feed(a, c, "shop/checkout", 24*m, 30*m, time.Second, 100, nil, nil)
		},
		readAt:     30 * m,
		want:       []windowWant{{5 * m, 0, true}, {30 * m, 8, true}},
		wantBudget: -7,
	}, {
		name:      "a window read mid-slot counts the slot it starts in pro rata",
		objective: "availability",
		feed: func(a *Accountant, c *fakeClock) {
			// Errors only in the 10s slot from 4m50s: the 5m window read at 9m55s holds
			// half of that slot (50 of its 100 errors, 500 of its 1,000 requests), 29
			// whole slots and the 6 batches of the slot in progress: 30,100 requests.
			feed(a, c, "shop/checkout", 0, 9*m+56*time.Second, time.Second, 100, func(at time.Duration) int {
				if at >= 4*m+50*time.Second && at < 5*m {
					return 10
				}
				return 0
			}, nil)
		},
		readAt:     9*m + 55*time.Second,
		want:       []windowWant{{5 * m, 50.0 / 30100 / 0.001, true}},
		wantBudget: 1 - 100.0/59600/0.001,
	}, {
		name:      "the 1d and 3d windows see a day at 0.1% and a day at 0.2% errors after a clean day",
		objective: "availability",
		feed: func(a *Accountant, c *fakeClock) {
			day := 24 * time.Hour
			feed(a, c, "shop/checkout", 0, day, 5*m, 1000, nil, nil)
			feed(a, c, "shop/checkout", day, 2*day, 5*m, 1000, constant(1), nil)
			feed(a, c, "shop/checkout", 2*day, 3*day, 5*m, 1000, constant(2), nil)
		},
		readAt: 72 * time.Hour,
		want: []windowWant{
			{6 * time.Hour, 2, true}, {24 * time.Hour, 2, true}, {72 * time.Hour, 1, true},
			{28 * 24 * time.Hour, 1, false},
		},
		wantBudget: 0,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock(t0)
			a := NewAccountant(edge(sloRoute("shop/checkout", 28*24*time.Hour, availability999, latency99)), c.now)
			tt.feed(a, c)
			c.set(t0.Add(tt.readAt))
			o := objectiveStatus(t, routeStatus(t, a, "shop/checkout"), tt.objective)
			checkWindows(t, o, tt.want)
			if !approx(o.BudgetRemaining, tt.wantBudget) {
				t.Errorf("budget remaining = %.6g, want %.6g", o.BudgetRemaining, tt.wantBudget)
			}
		})
	}
}
