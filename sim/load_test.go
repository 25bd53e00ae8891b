package sim

import (
	"testing"
	"time"

	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/proto"
)

func TestLoadCorpusTruth(t *testing.T) {
	edge := exampleEdge(t)
	w := Workload{Rate: 500, Unmatched: DefaultUnmatched, Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	lc, err := NewLoadCorpus(edge, 7, w, 3000)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCorpus(edge, 7, w, 3000)
	if err != nil {
		t.Fatal(err)
	}
	ones := make([]uint64, len(lc.ALS))
	for i := range ones {
		ones[i] = 1
	}
	threes := make([]uint64, len(lc.ALS))
	for i := range threes {
		threes[i] = 3
	}
	tripled := MergeTruth(MergeTruth(c.Truth, c.Truth), c.Truth)
	ignoreSlow := cmpopts.IgnoreFields(LatencyTruth{}, "SlowTraceIDs")
	for _, tc := range []struct {
		name string
		sent []uint64
		want Truth
	}{
		{"every batch sent once is the truth of the corpus", ones, c.Truth},
		{"every batch sent three times is three times that truth", threes, tripled},
		{"nothing sent is no truth", make([]uint64, len(lc.ALS)), Truth{Routes: map[string]RouteTruth{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lc.Truth(tc.sent)
			if diff := cmp.Diff(tc.want.Routes, got.Routes, ignoreSlow, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
			var n uint64
			for _, r := range tc.want.Routes {
				n += r.Requests
			}
			if got.Sent != n {
				t.Errorf("Sent = %d, want %d", got.Sent, n)
			}
		})
	}
}

func TestLoadCorpusEncodings(t *testing.T) {
	edge := exampleEdge(t)
	lc, err := NewLoadCorpus(edge, 7, Workload{Rate: 500}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	first, err := lc.WithIdentifier(2, "edge-load-1")
	if err != nil {
		t.Fatal(err)
	}
	var m alsv3.StreamAccessLogsMessage
	if err := proto.Unmarshal(first, &m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetIdentifier().GetNode().GetId(); got != "edge-load-1" {
		t.Errorf("a stream's first message names node %q, want edge-load-1", got)
	}
	if got := len(m.GetHttpLogs().GetLogEntry()); got != lc.Entries[2] {
		t.Errorf("a stream's first message has %d entries, want batch 2's %d", got, lc.Entries[2])
	}
	for i := range lc.OTLP {
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(lc.OTLP[i]); err != nil {
			t.Fatal(err)
		}
		if got := req.Logs().LogRecordCount(); got != lc.Entries[i] {
			t.Fatalf("OTLP request %d has %d records, want %d", i, got, lc.Entries[i])
		}
	}
}

func TestMarkersAreAllOnTheirRoute(t *testing.T) {
	edge := exampleEdge(t)
	route := edge.Routes[0].Name
	m, err := NewMarkers(edge, 3, route, 50)
	if err != nil {
		t.Fatal(err)
	}
	sent := make([]uint64, len(m.ALS))
	for i := range sent {
		sent[i] = 1
	}
	got := m.Truth(sent)
	if len(got.Routes) != 1 || got.Routes[route].Requests != 50 {
		t.Errorf("50 markers on %s count %+v", route, got.Routes)
	}
	if _, err := NewMarkers(edge, 3, "nope/nope", 1); err == nil {
		t.Error("markers on a route the model does not have: no error")
	}
}
