package sink_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/metrics"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/sim"
	"github.com/edgetel/edgetel/slo"
	"github.com/edgetel/edgetel/ui"
)

// The decoder resolves each record's route in the model (als.Record.RouteIn) so that the
// consumers need not look it up by name. What they count must not depend on it: not when
// the record was resolved in their model, not when it was resolved in another one (a model
// change between the decoding and the counting), and not when it was not resolved at all.
func TestConsumersCountTheSameWhetherTheDecoderResolvedTheRouteOrNot(t *testing.T) {
	edge := sinktest.ExampleEdge(t)
	corpus, err := sim.NewCorpus(edge, 7, sim.DefaultConfig(edge).Workload, 3000)
	if err != nil {
		t.Fatal(err)
	}
	// The same routes in reverse order, as another model: every position differs.
	reversed := *edge
	reversed.Routes = slices.Clone(edge.Routes)
	slices.Reverse(reversed.Routes)

	count := func(resolveIn *model.Edge) consumersOutput {
		now := func() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC) }
		acct := slo.NewAccountant(edge, now)
		stats, err := metrics.NewStore(metrics.Config{}, edge, now)
		if err != nil {
			t.Fatal(err)
		}
		bad := ui.NewBadRequestLog(0)
		if err := bad.Apply(edge); err != nil {
			t.Fatal(err)
		}
		dec, batch := als.NewDecoder(als.DefaultLimits()), &als.Batch{}
		dec.SetRoutes(als.NewRouteIndex(resolveIn))
		resolved := 0
		for _, msg := range corpus.Messages {
			if err := dec.Decode(msg, batch); err != nil {
				t.Fatal(err)
			}
			for i := range batch.Records {
				if _, ok := batch.Records[i].RouteIn(edge); ok {
					resolved++
				}
			}
			acct.ConsumeRecords(batch.Records)
			bad.ConsumeRecords(batch.Records)
			stats.ConsumeRecords(batch.Records)
		}
		if want := resolveIn == edge; (resolved > 0) != want {
			t.Fatalf("%d records resolved in the consumers' model; want some: %v", resolved, want)
		}
		out := consumersOutput{SLIs: exposition(t, acct), Stats: exposition(t, stats), Bad: map[string][]ui.BadRequest{}}
		for _, r := range edge.Routes {
			out.Bad[r.Name] = bad.RecentBad(r.Name, 1000)
		}
		return out
	}
	byName := count(nil)
	if len(byName.SLIs) == 0 || len(byName.Stats) == 0 {
		t.Fatalf("nothing counted: %d bytes of SLIs, %d of stats", len(byName.SLIs), len(byName.Stats))
	}
	for _, tc := range []struct {
		name string
		in   *model.Edge
	}{
		{"resolved in the consumers' model", edge},
		{"resolved in another model", &reversed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(byName, count(tc.in)); diff != "" {
				t.Errorf("counts differ from those of records looked up by name (-by name +%s):\n%s", tc.name, diff)
			}
		})
	}
}

type consumersOutput struct {
	SLIs, Stats string
	Bad         map[string][]ui.BadRequest
}

func exposition(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&out, f); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}
