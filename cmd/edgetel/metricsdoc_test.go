package main

import (
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/als/loki"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/sink"
	"github.com/edgetel/edgetel/tracing/jaeger"
	"github.com/edgetel/edgetel/xds"
)

// TestEveryMetricIsDocumented gathers what `edgetel run` registers and checks that
// docs/metrics.md names every edgetel_ metric: rules and dashboards are built on that page.
func TestEveryMetricIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	x, err := xds.NewServer(xds.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Register(reg); err != nil {
		t.Fatal(err)
	}
	// Exporters register their metrics only when configured; they connect on first use.
	s, err := sink.New(sink.Config{Loki: loki.Config{URL: "http://127.0.0.1:1"}, Jaeger: jaeger.Config{Endpoint: "127.0.0.1:1"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(s.Collectors()...)
	store := config.NewStore(s)
	reg.MustRegister(store)
	src := policySource("")
	ps, _ := src.Load()
	store.Update(ps, nil)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) < 20 {
		t.Fatalf("only %d metric families gathered", len(fams))
	}
	for _, f := range fams {
		name := f.GetName()
		if strings.HasPrefix(name, "edgetel_") && !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/metrics.md does not document %s", name)
		}
	}
}
