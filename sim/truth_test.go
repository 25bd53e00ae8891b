package sim

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"

	"github.com/edgetel/edgetel/model"
)

// localFailures are the flags DESIGN.md names as Envoy-local failures, among those the
// simulator sets; the server side of the tests classifies with them, not with sim's code.
const localFailures = FlagUF | FlagUO | FlagUT | FlagURX | FlagNR

// tally counts what a server received the way the sink defines its SLIs, independently of
// the simulator's bookkeeping.
func tally(t testing.TB, edge *model.Edge, streams [][]received) map[string]RouteTruth {
	t.Helper()
	out := map[string]RouteTruth{}
	for _, s := range streams {
		for _, m := range s {
			for _, e := range m.msg.GetHttpLogs().GetLogEntry() {
				count(t, edge, out, e)
			}
		}
	}
	return out
}

func count(t testing.TB, edge *model.Edge, out map[string]RouteTruth, e *accesslogv3.HTTPAccessLogEntry) {
	name := e.GetCommonProperties().GetRouteName()
	route := edge.Route(name)
	if route == nil {
		name = model.UnmatchedRoute
	}
	rt, ok := out[name]
	if !ok {
		rt = RouteTruth{Codes: map[uint32]uint64{}, Flags: map[string]uint64{}, Latency: map[string]LatencyTruth{}}
		if route != nil && route.SLO != nil {
			for _, o := range route.SLO.Objectives {
				if o.Indicator == model.Latency {
					rt.Latency[o.Name] = LatencyTruth{Threshold: o.Threshold, SlowTraceIDs: map[string]struct{}{}}
				}
			}
		}
	}
	code := e.GetResponse().GetResponseCode().GetValue()
	flags := FlagsOf(e.GetCommonProperties().GetResponseFlags())
	rt.Requests++
	rt.Codes[code]++
	if code >= 500 {
		rt.Status5xx++
	}
	if code >= 500 || flags&localFailures != 0 {
		rt.Bad++
	}
	if flags != 0 {
		rt.Flags[flags.String()]++
	}
	d := e.GetCommonProperties().GetTimeToLastDownstreamTxByte().AsDuration()
	trace := strings.Split(e.GetRequest().GetRequestHeaders()["traceparent"], "-")
	if len(trace) != 4 {
		t.Fatalf("entry without a traceparent: %v", e)
	}
	for name, lt := range rt.Latency {
		if d <= lt.Threshold {
			lt.Good++
		} else {
			lt.SlowTraceIDs[trace[1]] = struct{}{}
		}
		rt.Latency[name] = lt
	}
	out[name] = rt
}

func TestTheTruthIsExactlyWhatTheServerReceived(t *testing.T) {
	srv := startFakeALS(t, 0)
	c := testConfig(t, srv.addr)
	c.Unmatched, c.Profiles = 0.02, map[string]Profile{}
	for _, r := range c.Edge.Routes { // enough failures to see every cause
		p := DefaultProfile(r)
		p.ErrorRatio = 0.05
		c.Profiles[r.Name] = p
	}
	f := newFleet(t, c)
	if err := f.SendN(testContext(t), 4000); err != nil {
		t.Fatal(err)
	}
	truth := f.Truth()
	if !truth.Exact() || truth.Sent != 4000 || truth.Lost != 0 {
		t.Fatalf("exact %v, sent %d, lost %d; want exact, 4000 sent, none lost", truth.Exact(), truth.Sent, truth.Lost)
	}
	streams := srv.snapshot()
	if want := tally(t, c.Edge, streams); !reflect.DeepEqual(truth.Routes, want) {
		t.Errorf("the truth differs from what the server received:\n%s", diffRoutes(truth.Routes, want))
	}
	for node, ss := range byNode(t, streams) {
		if got := uint64(entryCount(ss)); truth.Nodes[node].Sent != got {
			t.Errorf("node %s: the truth says %d sent, the server read %d", node, truth.Nodes[node].Sent, got)
		}
	}
	if len(truth.Routes[model.UnmatchedRoute].Flags) == 0 {
		t.Error("no unmatched requests were sent")
	}
}

func diffRoutes(got, want map[string]RouteTruth) string {
	var b strings.Builder
	names := map[string]bool{}
	for n := range got {
		names[n] = true
	}
	for n := range want {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		if !reflect.DeepEqual(got[n], want[n]) {
			fmt.Fprintf(&b, "%s:\n  truth  %+v\n  server %+v\n", n, got[n], want[n])
		}
	}
	return b.String()
}

func TestTheDemoIncidentRaisesCheckoutsErrorsAndLatencyInItsWindowOnly(t *testing.T) {
	srv := startFakeALS(t, 0)
	c := testConfig(t, srv.addr)
	c.Rate = 20 // ten minutes of traffic in 12,000 entries, on the virtual clock
	f := newFleet(t, c)
	if err := f.SendN(testContext(t), 12000); err != nil {
		t.Fatal(err)
	}
	in := DemoIncident()
	type window struct {
		requests, bad int
		durations     []time.Duration
	}
	var before, during, after window
	for _, s := range srv.snapshot() {
		for _, m := range s {
			for _, e := range m.msg.GetHttpLogs().GetLogEntry() {
				cp := e.GetCommonProperties()
				if cp.GetRouteName() != in.Route {
					continue
				}
				w := &before
				switch off := cp.GetStartTime().AsTime().Sub(testEpoch); {
				case off >= in.Start+in.Duration:
					w = &after
				case off >= in.Start:
					w = &during
				}
				w.requests++
				if e.GetResponse().GetResponseCode().GetValue() >= 500 {
					w.bad++
				}
				w.durations = append(w.durations, cp.GetTimeToLastDownstreamTxByte().AsDuration())
			}
		}
	}
	ratio := func(w window) float64 { return float64(w.bad) / float64(w.requests) }
	if r := ratio(during); r < 0.16 || r > 0.24 { // ±3.5σ over ~1,200 requests
		t.Errorf("checkout's error ratio during the incident is %.3f of %d, want about %v", r, during.requests, in.ErrorRatio)
	}
	for name, w := range map[string]window{"before": before, "after": after} {
		if w.requests < 400 || ratio(w) > 0.01 {
			t.Errorf("checkout %s the incident: %d requests, error ratio %.4f; want steady", name, w.requests, ratio(w))
		}
	}
	if f := float64(median(during.durations)) / float64(median(before.durations)); f < 3 || f > 5 {
		t.Errorf("checkout's median latency grew %.2f× during the incident, want about %v×", f, in.LatencyFactor)
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func TestDefaultProfilesMeetEveryObjectiveInSteadyState(t *testing.T) {
	edge := exampleEdge(t)
	corpus, err := NewCorpus(edge, 3, Workload{Rate: 200, Epoch: testEpoch}, 40000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range edge.Routes {
		rt := corpus.Truth.Routes[r.Name]
		if rt.Requests < 7000 {
			t.Fatalf("%s: %d requests, want about 8,000", r.Name, rt.Requests)
		}
		for _, o := range r.SLO.Objectives {
			good := rt.Requests - rt.Bad
			if o.Indicator == model.Latency {
				good = rt.Latency[o.Name].Good
			}
			// Default profiles spend a quarter of each budget: never all of it.
			if bad := 1 - float64(good)/float64(rt.Requests); bad >= o.ErrorBudget() {
				t.Errorf("%s %s: %.5f bad, the whole budget %.5f", r.Name, o.Name, bad, o.ErrorBudget())
			}
		}
	}
}
