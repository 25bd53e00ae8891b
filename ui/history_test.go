package ui

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

var histRoute = &model.Route{Name: "shop/checkout", SLO: &model.SLO{Window: 28 * day, Objectives: []model.Objective{
	{Name: "availability", Indicator: model.Availability, Target: 0.999},
	{Name: "latency", Indicator: model.Latency, Target: 0.99, Threshold: 300 * time.Millisecond},
}}}

func TestHistoryIsARingOfFixedSize(t *testing.T) {
	h := newHistory(4)
	for i := range 6 {
		h.record(t0.Add(time.Duration(i)*10*time.Second),
			[]slo.RouteStatus{routeStatus(histRoute, burns{time.Hour: float64(i)}, uint64(100*(i+1)))})
	}
	samples, names := h.series("shop/checkout")
	if diff := cmp.Diff([]string{"availability", "latency"}, names); diff != "" {
		t.Errorf("objectives (-want +got):\n%s", diff)
	}
	var at []int64
	var burn1h []float32
	for _, s := range samples {
		at, burn1h = append(at, (s.at-t0.UnixNano())/int64(time.Second)), append(burn1h, s.obj[0].burn1h)
	}
	if diff := cmp.Diff([]int64{20, 30, 40, 50}, at); diff != "" {
		t.Errorf("kept seconds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float32{2, 3, 4, 5}, burn1h); diff != "" {
		t.Errorf("1h burn (-want +got):\n%s", diff)
	}
	// The documented memory: 24 bytes per sample plus 24 per objective and sample.
	s := h.routes["shop/checkout"]
	bytes := len(s.at)*8 + len(s.requests)*8 + len(s.err5xx)*8 + len(s.obj)*int(unsafe.Sizeof(objPoint{}))
	if want := 4 * (24 + 24*2); bytes != want {
		t.Errorf("a 4-sample series of 2 objectives holds %d bytes, the comment says %d", bytes, want)
	}
}

func TestHistoryRestartsWhenObjectivesChangeAndForgetsRoutesThatLeave(t *testing.T) {
	h := newHistory(10)
	other := &model.Route{Name: "shop/cart"}
	h.record(t0, []slo.RouteStatus{routeStatus(histRoute, nil, 1), routeStatus(other, nil, 1)})
	changed := *histRoute
	changed.SLO = &model.SLO{Window: 28 * day, Objectives: histRoute.SLO.Objectives[:1]}
	h.record(t0.Add(time.Second), []slo.RouteStatus{routeStatus(&changed, nil, 2)})
	samples, names := h.series("shop/checkout")
	if len(samples) != 1 || len(names) != 1 {
		t.Errorf("after a change of objectives: %d samples of %v, want 1 of [availability]", len(samples), names)
	}
	if s, _ := h.series("shop/cart"); s != nil {
		t.Errorf("a route that left the model kept %d samples", len(s))
	}
}

func TestRouteChartsLeaveCounterResetsBlank(t *testing.T) {
	mk := func(sec int, events, good uint64) sample {
		return sample{at: t0.Add(time.Duration(sec) * time.Second).UnixNano(), requests: events,
			obj: []objPoint{{events: events, good: good}}}
	}
	samples := []sample{mk(0, 100, 100), mk(10, 200, 190), mk(20, 50, 50), mk(30, 150, 140)}
	got := badRatio(samples, 0)
	want := []float64{0.1, math.NaN(), 0.1}
	for i := range want {
		if g := got[i].v; !(g == want[i] || math.IsNaN(g) && math.IsNaN(want[i])) {
			t.Errorf("interval %d: %v, want %v", i, g, want[i])
		}
	}
	if v := perSecond(200, 100, 10); !math.IsNaN(v) {
		t.Errorf("a counter that went down gave %v/s", v)
	}
}

func TestDownsampleKeepsSpikes(t *testing.T) {
	var pts []pt
	for i := range 1000 {
		v := 1.0
		if i == 517 {
			v = 99
		}
		pts = append(pts, pt{t: int64(i), v: v})
	}
	out := downsample(pts, 0, 1000, 50)
	if len(out) > 50 {
		t.Errorf("%d points, want at most 50", len(out))
	}
	top := 0.0
	for _, p := range out {
		top = max(top, p.v)
	}
	if top != 99 {
		t.Errorf("the spike became %v", top)
	}
}

func TestPathLiftsThePenOverGaps(t *testing.T) {
	id := func(t int64) float64 { return float64(t) }
	got := path([]pt{{1, 1}, {2, 2}, {3, math.NaN()}, {4, 4}}, id, func(v float64) float64 { return v })
	if want := "M1,1 L2,2 M4,4"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.7: 1, 1: 1, 1.2: 2, 2.2: 2.5, 3: 5, 13.44: 20, 190: 200, 0.0011: 0.002} {
		if got := niceCeil(in); math.Abs(got-want) > 1e-12 {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"the zero config is valid", Config{}, ""},
		{"a Jaeger URL must be absolute http(s)", Config{JaegerURL: "jaeger:16686"}, "JaegerURL"},
		{"a Grafana URL must not be javascript", Config{GrafanaURL: "javascript:alert(1)"}, "GrafanaURL"},
		{"a negative interval is refused", Config{SampleEvery: -time.Second}, "negative"},
		{"a history of more than 10,000 samples is refused", Config{History: 48 * time.Hour, SampleEvery: time.Second}, "172800 samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrInvalidConfig about %q", err, tc.want)
			}
			if _, err := New(tc.cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestStartShutdownStart(t *testing.T) {
	calls := make(chan struct{}, 100)
	status := StatusFunc(func() []slo.RouteStatus {
		calls <- struct{}{}
		return []slo.RouteStatus{routeStatus(histRoute, nil, 1)}
	})
	u, err := New(Config{Status: status, SampleEvery: 5 * time.Millisecond, History: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := u.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown without Start: %v", err)
	}
	for range 2 {
		if err := u.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := u.Start(ctx); err == nil {
			t.Error("a second Start succeeded")
		}
		<-calls // the first sample is taken at Start
		<-calls // and the next by the ticker
		if err := u.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := u.Shutdown(ctx); err != nil {
			t.Fatalf("second Shutdown: %v", err)
		}
	}
	if s, _ := u.hist.series("shop/checkout"); len(s) < 4 {
		t.Errorf("%d samples after two runs, want at least 4", len(s))
	}
}
