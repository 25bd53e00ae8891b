package slo

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/edgetel/edgetel/als"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// smallCase is one route with an availability and a latency objective and one batch of
// records: four 2xx (one over the 300ms threshold), a 503, a status 0 with UF, a request to
// a route the model does not know and one that matched no route.
func smallCase() *Accountant {
	c := newFakeClock(t0)
	a := NewAccountant(edge(sloRoute("shop/checkout", 28*24*time.Hour, availability999, latency99)), c.now)
	c.advance(time.Minute)
	a.ConsumeRecords([]als.Record{
		traced(rec("shop/checkout", 200, 0, 100*time.Millisecond), 0x10, true),
		rec("shop/checkout", 200, 0, 100*time.Millisecond),
		rec("shop/checkout", 200, 0, 90*time.Millisecond),
		traced(rec("shop/checkout", 200, 0, 400*time.Millisecond), 0x20, false),
		traced(rec("shop/checkout", 503, 0, 50*time.Millisecond), 0x30, false),
		rec("shop/checkout", 0, als.FlagUpstreamConnectionFailure, time.Millisecond),
		rec("shop/gone", 404, 0, 2*time.Millisecond),
		rec("", 404, als.FlagNoRouteFound, 500*time.Microsecond),
	})
	c.advance(time.Minute)
	return a
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	return want
}

// format gathers c through a pedantic registry and encodes every family in format f.
func format(t *testing.T, c prometheus.Collector, f expfmt.FormatType) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(f))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		if err := closer.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestExpositionText(t *testing.T) {
	a := smallCase()
	got := format(t, a, expfmt.TypeTextPlain)
	want := golden(t, "small.prom", got)
	if err := testutil.CollectAndCompare(a, bytes.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestExpositionOpenMetrics pins what the text format cannot show: the exemplars, one per
// bucket from the records whose trace is in the backend (sampled, or broke an objective).
func TestExpositionOpenMetrics(t *testing.T) {
	got := format(t, smallCase(), expfmt.TypeOpenMetrics)
	if want := golden(t, "small.openmetrics", got); !bytes.Equal(got, want) {
		t.Errorf("OpenMetrics exposition differs from testdata/small.openmetrics:\n%s", got)
	}
}

func TestPedanticRegistryGathers(t *testing.T) {
	c := newFakeClock(t0)
	a := NewAccountant(edge(
		sloRoute("shop/checkout", 28*24*time.Hour, availability999, latency99),
		sloRoute("shop/cart", 7*24*time.Hour, latency99),
		sloRoute("shop/search", 90*24*time.Hour, availability999),
	), c.now)
	var batch []als.Record
	for i := range 1000 {
		route := []string{"shop/checkout", "shop/cart", "shop/search", "", "x/y"}[i%5]
		d := time.Duration(i) * time.Millisecond
		batch = append(batch, traced(rec(route, uint32(200+i%4*100), 0, d), byte(i), i%2 == 0))
	}
	a.ConsumeRecords(batch)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(a)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestMetricNamesFollowPrometheusConventions(t *testing.T) {
	problems, err := testutil.CollectAndLint(smallCase())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestMetricsDocumented checks that docs/metrics.md names every metric.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range allDescs {
		name := d.String()
		name = name[strings.Index(name, `fqName: "`)+9:]
		name = name[:strings.Index(name, `"`)]
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/metrics.md does not document %s", name)
		}
	}
}
