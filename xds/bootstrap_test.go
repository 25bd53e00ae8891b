package xds

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/model"
)

func TestBootstrapGolden(t *testing.T) {
	cases := map[string]BootstrapOptions{
		// The defaults: edgetel xds and the sink on this host.
		"default": {NodeID: "edge-0"},
		// In Kubernetes: the sink is a Service (EDS, pinned per node), a faster flush, a
		// second Envoy's admin port.
		"kubernetes": {
			NodeID: "edge-7f9c", NodeCluster: "edge", XDSAddress: "edgetel-xds.edgetel.svc:18000",
			Sink: model.Sink{Service: "edgetel/edgetel-sink", Port: 4317}, AdminPort: 9902, StatsFlushInterval: 5 * time.Second,
		},
		// In Kubernetes, with mutual TLS to both the xDS server and the sink.
		"mtls": {
			NodeID: "edge-7f9c", XDSAddress: "edgetel-xds.edgetel.svc:18000",
			Sink:   model.Sink{Service: "edgetel/edgetel-sink", Port: 4317},
			XDSTLS: envoyTLS, SinkTLS: envoyTLS,
		},
	}
	written := map[string]bool{}
	for name, opts := range cases {
		path := filepath.Join("testdata", "bootstrap-"+name+".out.yaml")
		written[path] = true
		t.Run(name, func(t *testing.T) {
			b, err := Bootstrap(opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := YAML(b)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, path, got)
		})
	}
	removeStale(t, "testdata/bootstrap-*.out.yaml", func(p string) bool { return written[p] })
}

func TestBootstrapRefusesIncompleteOptions(t *testing.T) {
	tests := []struct {
		name string
		opts BootstrapOptions
		says string
	}{
		{"a bootstrap without a node ID is refused", BootstrapOptions{}, "node ID"},
		{"an xDS address without a port is refused", BootstrapOptions{NodeID: "n", XDSAddress: "xds.example.com"}, "host:port"},
		{"a sink without a port is refused", BootstrapOptions{NodeID: "n", Sink: model.Sink{Host: "sink"}}, "port 0"},
		{"xDS TLS without a CA file is refused", BootstrapOptions{NodeID: "n", XDSTLS: &UpstreamTLS{CertFile: "/c", KeyFile: "/k"}}, "caFile is required"},
		{"sink TLS with a relative key path is refused", BootstrapOptions{NodeID: "n", SinkTLS: &UpstreamTLS{CertFile: "/c", KeyFile: "k", CAFile: "/ca"}}, `keyFile "k" must be an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Bootstrap(tt.opts)
			if !errors.Is(err, ErrBootstrap) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Bootstrap = %v, want ErrBootstrap saying %q", err, tt.says)
			}
		})
	}
}

func TestBootstrapSinkMatchesTheTranslatedSink(t *testing.T) {
	sinks := []model.Sink{{Host: "127.0.0.1", Port: 4317}, {Service: "edgetel/sink", Port: 4317}, {Host: "sink.internal", Port: 4317}}
	for _, sink := range sinks {
		for _, tls := range []*UpstreamTLS{nil, envoyTLS} {
			checkSinkClustersAgree(t, sink, tls)
		}
	}
}

func checkSinkClustersAgree(t *testing.T, sink model.Sink, tls *UpstreamTLS) {
	t.Helper()
	b, err := Bootstrap(BootstrapOptions{NodeID: "n", Sink: sink, SinkTLS: tls})
	if err != nil {
		t.Fatal(err)
	}
	e := testEdge()
	e.Sink = sink
	res, err := TranslateWith(e, Options{SinkTLS: tls})
	if err != nil {
		t.Fatal(err)
	}
	var inBootstrap, translated string
	for _, c := range b.StaticResources.Clusters {
		if c.Name == SinkCluster {
			inBootstrap = c.String()
		}
	}
	for _, c := range res.Clusters {
		if c.Name == SinkCluster {
			translated = c.String()
		}
	}
	if inBootstrap == "" || inBootstrap != translated {
		t.Errorf("sink %+v, TLS %t: the bootstrap's sink cluster differs from Translate's:\n%s\n%s", sink, tls != nil, inBootstrap, translated)
	}
}
