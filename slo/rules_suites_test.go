package slo

import (
	"time"
)

// Traffic of the scenarios: 2,000 requests per 15s sample, 1,200 through sink a and 800
// through sink b, so that 1 bad request per sample is 0.05% (a burn rate of 0.5).
var (
	quiet   = [2]int{1200, 800}
	noBad   = [2]int{0, 0}
	nothing = [2]int{0, 0}
	day     = 24 * time.Hour
)

// ruleScenarios are the promtool suites of testdata/rules/promtool.
var ruleScenarios = []scenario{
	{
		name:  "fast-burn",
		title: "a fast burn pages within the minutes the workbook predicts",
		about: []string{
			"After a clean day, sink b alone fails 5% of its requests for 1h: 2% of all requests,",
			"a burn rate of 20. The workbook's time to page over 1h at 13.44x is",
			"13.44 x 0.1% / 2% x 60m = 40.3m; the 6h window (5.6x) would take 100.8m and the",
			"tickets longer still, so only the 1h/5m page fires, and it stops within 5m of the",
			"burn's end, once the short window is clean. Were the replicas' ratios not summed,",
			"sink b's 5% would page after 16.1m.",
		},
		eval: time.Minute,
		phases: []phase{
			{dur: day, events: quiet, bad: noBad},
			{dur: time.Hour, events: quiet, bad: [2]int{0, 40}},
			{dur: 30 * time.Minute, events: quiet, bad: noBad},
		},
		predict: []prediction{{long: time.Hour, phase: 1, after: 40*time.Minute + 19*time.Second}},
		never:   []Severity{SeverityTicket},
		extra:   []exprCheck{burnCheck(day+30*time.Minute, 5*time.Minute), burnCheck(day+time.Hour, time.Hour)},
	},
	{
		name:  "slow-burn",
		title: "a slow burn opens a ticket and does not page",
		about: []string{
			"After a clean day, sink a fails 8 of every 1,200 requests, 0.4% of all: a burn rate",
			"of 4, under both page factors (13.44x, 5.6x). The 1d ticket (2.8x) fires when 10% of",
			"the 28d budget is gone, after 0.1 x 28d / 4 = 16.8h. The 3d ticket (0.9333x) fires",
			"first, after 7.3h: promtool 2.42 loads at most 10,000 samples of a series into one",
			"query, 41h40m at 15s, so the 3d window cannot fill here; it holds 1d + 7.3h, and",
			"0.4% x 7.3h / 31.3h is 0.9333 x 0.1%. With three clean days it too would take 16.8h.",
		},
		eval: 5 * time.Minute,
		phases: []phase{
			{dur: day, events: quiet, bad: noBad},
			{dur: 17 * time.Hour, events: quiet, bad: [2]int{8, 0}},
		},
		predict: []prediction{
			{long: day, phase: 1, after: 16*time.Hour + 48*time.Minute},
			{long: 3 * day, phase: 1, after: 7*time.Hour + 18*time.Minute},
		},
		never: []Severity{SeverityPage},
	},
	{
		name:  "inside-budget",
		title: "traffic inside its budget fires nothing, a short spike included",
		about: []string{
			"14h at a burn rate of 0.5 (1 bad request in 2,000), with a 2m spike to 5% errors",
			"at 12h. The spike takes the 5m burn rate over the 13.44x page factor, but the 1h",
			"window only to 2.2 ((2m x 5% + 58m x 0.05%) / 60m / 0.1%): the long window keeps a",
			"blip from paging. The 6h window, at 0.78, stays under the 3d ticket's 0.9333.",
		},
		eval: time.Minute,
		phases: []phase{
			{dur: 12 * time.Hour, events: quiet, bad: [2]int{0, 1}},
			{dur: 2 * time.Minute, events: quiet, bad: [2]int{60, 40}},
			{dur: 2 * time.Hour, events: quiet, bad: [2]int{0, 1}},
		},
		never: []Severity{SeverityPage, SeverityTicket},
		extra: []exprCheck{overCheck(12*time.Hour+2*time.Minute, 5*time.Minute, 13.44),
			overCheck(12*time.Hour+2*time.Minute, time.Hour, 13.44)},
	},
	{
		name:  "no-traffic",
		title: "no traffic fires nothing, and alerts stop as their short windows empty",
		about: []string{
			"2h without a request: every error ratio is 0/0, NaN, which compares false, so",
			"nothing fires and the burn state is 0. Then 10m in which every request fails: the",
			"only requests in every window are failures, so all four alerts fire. Then no traffic",
			"again: each alert stops once its short window holds no request (the 1h/5m page 5m",
			"later, the 6h/30m page 30m later, the 1d/2h ticket 2h later).",
		},
		eval: time.Minute,
		phases: []phase{
			{dur: 2 * time.Hour, events: nothing, bad: nothing},
			{dur: 10 * time.Minute, events: quiet, bad: quiet},
			{dur: 3 * time.Hour, events: nothing, bad: nothing},
		},
		extra: []exprCheck{
			{at: time.Hour, expr: "count(edgetel:slo_burn_rate:rate5m)", samples: []string{"{} 1"}},
			{at: time.Hour, expr: "edgetel:slo_burn_rate:rate5m >= 0"},
			{at: time.Hour, expr: "count(edgetel:slo_error_budget_remaining:ratio >= -Inf)"},
		},
	},
	{
		name:  "total-outage",
		title: "a total outage pages at once, saying how fast the budget burns and what is left",
		about: []string{
			"Every request fails from the start: a burn rate of 1/0.1% = 1000 over every window,",
			"so all four alerts fire at the first evaluation with two samples. The workbook's",
			"time to page over 1h at 13.44x is 13.44 x 0.1% / 100% x 60m = 48s. Budget left:",
			"1 - 100% / 0.1% = -99900%.",
		},
		eval:       time.Minute,
		phases:     []phase{{dur: 10 * time.Minute, events: quiet, bad: quiet}},
		predict:    []prediction{{long: time.Hour, phase: 0, after: 48 * time.Second}},
		annotateAt: 10 * time.Minute,
	},
}
