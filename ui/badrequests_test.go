package ui

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// badEdge has a route with both kinds of objective, one with latency only, and one without.
var badEdge = &model.Edge{Routes: []model.Route{
	{Name: "shop/checkout", SLO: &model.SLO{Objectives: []model.Objective{
		{Name: "availability", Indicator: model.Availability, Target: 0.999},
		{Name: "latency", Indicator: model.Latency, Target: 0.99, Threshold: 300 * time.Millisecond},
		{Name: "latency-slow", Indicator: model.Latency, Target: 0.999, Threshold: time.Second},
	}}},
	{Name: "shop/search", SLO: &model.SLO{Objectives: []model.Objective{
		{Name: "latency", Indicator: model.Latency, Target: 0.95, Threshold: 500 * time.Millisecond},
	}}},
	{Name: "shop/static"},
}}

var t0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func record(route string, status uint32, flags als.ResponseFlags, d time.Duration, id string) als.Record {
	r := als.Record{RouteName: []byte(route), Status: status, Flags: flags, Duration: d,
		Start: t0, Method: []byte("POST"), Path: []byte("/checkout/pay?card=4111111111111111"),
		UpstreamHost: als.HostPort{Host: []byte("10.0.0.7"), Port: 8080, HasPort: true}, RequestID: []byte(id)}
	r.SetTrace([16]byte{0x4b, 0xf9, 15: 0x36}, [8]byte{1}, true)
	return r
}

func TestBadRequestLogKeepsWhatBrokeAnObjective(t *testing.T) {
	l := NewBadRequestLog(10)
	if err := l.Apply(badEdge); err != nil {
		t.Fatal(err)
	}
	batch := []als.Record{
		record("shop/checkout", 200, 0, 10*time.Millisecond, "good"),
		record("shop/checkout", 503, 0, 10*time.Millisecond, "5xx"),
		record("shop/checkout", 200, als.FlagUpstreamConnectionFailure, 0, "uf"),
		record("shop/checkout", 404, als.FlagDownstreamConnectionTermination, 0, "client-gone"),
		record("shop/checkout", 200, 0, 400*time.Millisecond, "slow"),
		record("shop/checkout", 500, 0, 2*time.Second, "both"),
		record("shop/checkout", 200, 0, 300*time.Millisecond, "at-threshold"),
		record("shop/search", 503, 0, 10*time.Millisecond, "search-5xx-no-availability-objective"),
		record("shop/search", 200, 0, 501*time.Millisecond, "search-slow"),
		record("shop/static", 503, 0, time.Minute, "no-objectives"),
		record("", 503, als.FlagNoRouteFound, 0, "unmatched"),
		record("shop/unknown", 503, 0, 0, "unknown-route"),
	}
	l.ConsumeRecords(batch)
	ids := func(route string) (out []string) {
		for _, b := range l.RecentBad(route, 100) {
			out = append(out, b.RequestID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"both", "slow", "uf", "5xx"}, ids("shop/checkout")); diff != "" {
		t.Errorf("checkout (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"search-slow"}, ids("shop/search")); diff != "" {
		t.Errorf("search (-want +got):\n%s", diff)
	}
	for _, r := range []string{"shop/static", "unmatched", "", "shop/unknown"} {
		if got := ids(r); got != nil {
			t.Errorf("%q kept %v", r, got)
		}
	}
	want := BadRequest{Route: "shop/checkout", Time: t0, Method: "POST", Path: "/checkout/pay",
		Status: 500, Duration: 2 * time.Second, Upstream: "10.0.0.7:8080", RequestID: "both",
		TraceID: "4bf90000000000000000000000000036", Sampled: true, Unavailable: true, SlowerThan: time.Second}
	if diff := cmp.Diff(want, l.RecentBad("shop/checkout", 1)[0]); diff != "" {
		t.Errorf("kept request (-want +got):\n%s", diff)
	}
}

func TestBadRequestLogCopiesWhatItKeeps(t *testing.T) {
	l := NewBadRequestLog(4)
	_ = l.Apply(badEdge)
	long := strings.Repeat("x", 500)
	r := record("shop/checkout", 503, 0, 0, long)
	r.Path = []byte("/" + long)
	r.UpstreamHost = als.HostPort{Host: []byte("::" + long), Port: 8080, HasPort: true} // rendered "[::xxx…]:8080"
	batch := []als.Record{r}
	l.ConsumeRecords(batch)
	for i := range batch[0].RequestID { // the receiver reuses its buffers once the call returns
		batch[0].RequestID[i] = '!'
		batch[0].Method[i%len(batch[0].Method)] = '!'
		batch[0].UpstreamHost.Host[i] = '!'
	}
	got := l.RecentBad("shop/checkout", 1)[0]
	if got.RequestID != long[:maxRequestID] || got.Method != "POST" || got.Path != "/"+long[:maxPath-1] ||
		got.Upstream != "[::"+long[:maxUpstream-3] {
		t.Errorf("kept %q %q %q %q: not a capped copy", got.Method, got.Path, got.RequestID, got.Upstream)
	}
}

func TestBadRequestLogIsARingOfFixedSize(t *testing.T) {
	l := NewBadRequestLog(3)
	_ = l.Apply(badEdge)
	for i := range 7 {
		l.ConsumeRecords([]als.Record{record("shop/checkout", 503, 0, 0, fmt.Sprint(i))})
	}
	var got []string
	for _, b := range l.RecentBad("shop/checkout", 10) {
		got = append(got, b.RequestID)
	}
	if diff := cmp.Diff([]string{"6", "5", "4"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := len(l.RecentBad("shop/checkout", 2)); n != 2 {
		t.Errorf("limit 2 gave %d", n)
	}
	// The documented memory: a slot is 336 bytes, so 50 per route are 16.8 KB.
	if size := unsafe.Sizeof(badSlot{}); size != 336 {
		t.Errorf("a slot is %d bytes; update BadRequestLog's comment", size)
	}
}

func TestBadRequestLogFollowsTheModel(t *testing.T) {
	l := NewBadRequestLog(5)
	l.ConsumeRecords([]als.Record{record("shop/checkout", 503, 0, 0, "before-any-model")})
	if got := l.RecentBad("shop/checkout", 5); got != nil {
		t.Errorf("kept %v without a model", got)
	}
	_ = l.Apply(badEdge)
	l.ConsumeRecords([]als.Record{
		record("shop/checkout", 503, 0, 0, "a"), record("shop/search", 200, 0, time.Second, "b")})

	// Same objectives for checkout: its ring stays. New threshold for search: it restarts.
	next := *badEdge
	next.Routes = append([]model.Route(nil), badEdge.Routes...)
	search := *next.Routes[1].SLO
	search.Objectives = []model.Objective{{Name: "latency", Indicator: model.Latency, Target: 0.95, Threshold: time.Second}}
	next.Routes[1].SLO = &search
	_ = l.Apply(&next)
	if n := len(l.RecentBad("shop/checkout", 5)); n != 1 {
		t.Errorf("checkout kept %d across an unchanged model, want 1", n)
	}
	if n := len(l.RecentBad("shop/search", 5)); n != 0 {
		t.Errorf("search kept %d across a new threshold, want 0", n)
	}
	_ = l.Apply(&model.Edge{})
	if got := l.RecentBad("shop/checkout", 5); got != nil {
		t.Errorf("a route that left the model still has %v", got)
	}
}

func TestBadRequestLogConsumesWithoutAllocating(t *testing.T) {
	l := NewBadRequestLog(0)
	_ = l.Apply(badEdge)
	batch := []als.Record{
		record("shop/checkout", 200, 0, time.Millisecond, "good"),
		record("shop/checkout", 503, 0, time.Second, "bad"),
		record("shop/nope", 503, 0, time.Second, "unknown"),
	}
	if n := testing.AllocsPerRun(100, func() { l.ConsumeRecords(batch) }); n != 0 {
		t.Errorf("ConsumeRecords allocates %v times per batch", n)
	}
}

// TestBadRequestLogConcurrently is for the race detector: the receiver's workers consume
// while the store applies models and pages read.
func TestBadRequestLogConcurrently(t *testing.T) {
	l := NewBadRequestLog(8)
	_ = l.Apply(badEdge)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			batch := []als.Record{record("shop/checkout", 503, 0, time.Second, fmt.Sprint(w))}
			for range 500 {
				l.ConsumeRecords(batch)
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			if i%2 == 0 {
				_ = l.Apply(badEdge)
			} else {
				_ = l.Apply(&model.Edge{Routes: badEdge.Routes[:1]})
			}
		}
	})
	wg.Go(func() {
		for range 200 {
			for _, b := range l.RecentBad("shop/checkout", 8) {
				if b.Status != 503 {
					t.Errorf("read a torn record: %+v", b)
				}
			}
		}
	})
	wg.Wait()
}
