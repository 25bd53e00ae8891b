package loki

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// testEdge has one route and the redaction config builds by default.
func testEdge(redactQuery bool) *model.Edge {
	return &model.Edge{
		Routes:    []model.Route{{Name: "shop/checkout"}},
		Redaction: model.Redaction{Headers: []string{"authorization", "cookie"}, QueryStrings: redactQuery},
	}
}

func testRecord() als.Record {
	r := als.Record{
		Node:            []byte("edge-0"),
		NodeCluster:     []byte("edge"),
		RouteName:       []byte("shop/checkout"),
		UpstreamCluster: []byte("shop_checkout_8080"),
		UpstreamHost:    als.HostPort{Host: []byte("10.0.0.7"), Port: 8080, HasPort: true},
		Method:          []byte("POST"),
		Authority:       []byte("shop.example.com"),
		Path:            []byte("/checkout/pay?card=4111111111111111&authorization=Bearer%20x"),
		UserAgent:       []byte("curl/8"),
		Status:          503,
		Flags:           als.FlagUpstreamConnectionFailure | als.FlagUpstreamRetryLimitExceeded,
		Start:           time.Unix(1700000000, 123456789),
		Duration:        312456 * time.Microsecond,
		BytesReceived:   512,
		BytesSent:       91,
		RequestID:       []byte("8d3b1f3e-6c1a-4c53-9f0e-2f9b6f1d2a10"),
	}
	r.SetTrace([16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		[8]byte{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, false)
	return r
}

func TestLine(t *testing.T) {
	const rest = `,"status":503,"flags":"UF,URX","duration_ms":312.456,"bytes_received":512,"bytes_sent":91,` +
		`"upstream_cluster":"shop_checkout_8080","upstream_host":"10.0.0.7:8080",` +
		`"request_id":"8d3b1f3e-6c1a-4c53-9f0e-2f9b6f1d2a10",` +
		`"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","node":"edge-0"}`
	tests := []struct {
		name   string
		edit   func(*als.Record)
		redact bool
		want   string
	}{
		{
			name:   "a request's query string is replaced by REDACTED when query strings are redacted",
			redact: true,
			want:   `{"method":"POST","path":"/checkout/pay?REDACTED"` + rest,
		},
		{
			name: "a request's query string is kept when the platform turned redaction off",
			want: `{"method":"POST","path":"/checkout/pay?card=4111111111111111&authorization=Bearer%20x"` + rest,
		},
		{
			name:   "a path without a query string is exported as it is",
			edit:   func(r *als.Record) { r.Path = []byte("/checkout/") },
			redact: true,
			want:   `{"method":"POST","path":"/checkout/"` + rest,
		},
		{
			name:   "a path with an empty query string still says it was redacted",
			edit:   func(r *als.Record) { r.Path = []byte("/checkout/?") },
			redact: true,
			want:   `{"method":"POST","path":"/checkout/?REDACTED"` + rest,
		},
		{
			name: "a request without traceparent has no trace or span ID and no flags print as a dash",
			edit: func(r *als.Record) { r.HasTrace, r.Flags, r.Path = false, 0, []byte("/") },
			want: `{"method":"POST","path":"/"` + strings.Replace(strings.Replace(rest, `"UF,URX"`, `"-"`, 1),
				`"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",`, "", 1),
		},
		{
			name: "quotes, control bytes and invalid UTF-8 in a path stay valid JSON",
			edit: func(r *als.Record) { r.Path = []byte("/a\"b\\c\n\x01\xff€") },
			want: `{"method":"POST","path":"/a\"b\\c\u000a\u0001\ufffd€"` + rest,
		},
		{
			name: "an IPv6 upstream host is in brackets",
			edit: func(r *als.Record) {
				r.UpstreamHost = als.HostPort{Host: []byte("2001:db8::7"), Port: 443, HasPort: true}
			},
			want: `{"method":"POST","path":"/checkout/pay?card=4111111111111111&authorization=Bearer%20x"` +
				strings.Replace(rest, `"10.0.0.7:8080"`, `"[2001:db8::7]:443"`, 1),
		},
		{
			name: "a host already joined, as OTLP logs it, is exported as it is",
			edit: func(r *als.Record) { r.UpstreamHost = als.HostPort{Host: []byte("10.1.2.3:9000")} },
			want: `{"method":"POST","path":"/checkout/pay?card=4111111111111111&authorization=Bearer%20x"` +
				strings.Replace(rest, `"10.0.0.7:8080"`, `"10.1.2.3:9000"`, 1),
		},
		{
			name: "quotes and control bytes in an upstream host stay valid JSON",
			edit: func(r *als.Record) { r.UpstreamHost = als.HostPort{Host: []byte("a\"b:\n"), Port: 1, HasPort: true} },
			want: `{"method":"POST","path":"/checkout/pay?card=4111111111111111&authorization=Bearer%20x"` +
				strings.Replace(rest, `"10.0.0.7:8080"`, `"[a\"b:\u000a]:1"`, 1),
		},
		{
			name: "a request without an upstream host has an empty one",
			edit: func(r *als.Record) { r.UpstreamHost = als.HostPort{} },
			want: `{"method":"POST","path":"/checkout/pay?card=4111111111111111&authorization=Bearer%20x"` +
				strings.Replace(rest, `"10.0.0.7:8080"`, `""`, 1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRecord()
			if tt.edit != nil {
				tt.edit(&r)
			}
			got := string(appendLine(nil, &r, tt.redact))
			if got != tt.want {
				t.Errorf("line\n got %s\nwant %s", got, tt.want)
			}
			// After other lines in a buffer with room, where the host is escaped in place.
			roomy := append(make([]byte, 0, 4096), "before\n"...)
			if after := string(appendLine(roomy, &r, tt.redact)); after != "before\n"+tt.want {
				t.Errorf("line after another in a roomy buffer\n got %s\nwant %s", after, "before\n"+tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("line is not valid JSON: %s", got)
			}
		})
	}
}

func TestLineNeverCarriesHeadersOrIdentifyingRequestFields(t *testing.T) {
	r := testRecord()
	var fields map[string]any
	if err := json.Unmarshal(appendLine(nil, &r, true), &fields); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"bytes_received", "bytes_sent", "duration_ms", "flags", "method", "node", "path", "request_id",
		"span_id", "status", "trace_id", "upstream_cluster", "upstream_host"}
	if !slices.Equal(keys, want) {
		t.Errorf("fields %v, want %v", keys, want)
	}
	line := strings.ToLower(string(appendLine(nil, &r, true)))
	for _, secret := range []string{"authorization", "cookie", "bearer", "4111", "curl", "shop.example.com"} {
		if strings.Contains(line, secret) {
			t.Errorf("line carries %q: %s", secret, line)
		}
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		name    string
		edge    *model.Edge
		cluster string
		route   string
		code    uint32
		want    string
	}{
		{"a request on a model route is labeled with that route and its status class", testEdge(true),
			"edge", "shop/checkout", 201, `{job="edgetel", node_group="edge", route="shop/checkout", status_class="2xx"}`},
		{"a request that matched no route is labeled unmatched", testEdge(true),
			"edge", "", 404, `{job="edgetel", node_group="edge", route="unmatched", status_class="4xx"}`},
		{"a route name the model does not have never becomes a label", testEdge(true),
			"edge", "evil/../random-123", 500, `{job="edgetel", node_group="edge", route="unmatched", status_class="5xx"}`},
		{"a request without a response has status class other", testEdge(true),
			"edge", "shop/checkout", 0, `{job="edgetel", node_group="edge", route="shop/checkout", status_class="other"}`},
		{"without a model every request is unmatched", nil,
			"edge", "shop/checkout", 302, `{job="edgetel", node_group="edge", route="unmatched", status_class="3xx"}`},
		{"the node group is the Envoy node's cluster", testEdge(true),
			"edge-eu", "shop/checkout", 200, `{job="edgetel", node_group="edge-eu", route="shop/checkout", status_class="2xx"}`},
		{"a node without a cluster gets the configured node group", testEdge(true),
			"", "shop/checkout", 200, `{job="edgetel", node_group="fallback", route="shop/checkout", status_class="2xx"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRecord()
			r.NodeCluster, r.RouteName, r.Status = []byte(tt.cluster), []byte(tt.route), tt.code
			if got := newRouting(tt.edge, "fallback", DefaultMaxNodeGroups).streamOf(&r).labels.String(); got != tt.want {
				t.Errorf("labels\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNodeGroupsBeyondTheCapShareTheOtherGroup(t *testing.T) {
	rt := newRouting(testEdge(true), DefaultNodeGroup, 2)
	groupOf := func(cluster string) string {
		r := testRecord()
		r.NodeCluster = []byte(cluster)
		return string(rt.streamOf(&r).labels["node_group"])
	}
	for _, c := range []struct{ cluster, want string }{
		{"edge-eu", "edge-eu"}, {"edge-us", "edge-us"}, {"edge-ap", OtherNodeGroup},
		{"random-1", OtherNodeGroup}, {"edge-eu", "edge-eu"},
	} {
		if got := groupOf(c.cluster); got != c.want {
			t.Errorf("cluster %q: node_group %q, want %q", c.cluster, got, c.want)
		}
	}
	if len(rt.groups) != 3 {
		t.Errorf("%d node groups built, want 2 and other", len(rt.groups))
	}
}

func TestQueryRedactionFollowsTheModel(t *testing.T) {
	tests := []struct {
		name string
		edge *model.Edge
		want bool
	}{
		{"a model that redacts query strings redacts them", testEdge(true), true},
		{"a model that turned query redaction off keeps them", testEdge(false), false},
		{"a model not built by config, with no redaction at all, gets the safe default", &model.Edge{}, true},
		{"no model gets the safe default", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newRouting(tt.edge, "edge", DefaultMaxNodeGroups).redactQuery; got != tt.want {
				t.Errorf("redactQuery = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFormattingAllocatesNothingOnceTheBufferHasGrown(t *testing.T) {
	r := testRecord()
	rt := newRouting(testEdge(true), "edge", DefaultMaxNodeGroups)
	buf := appendLine(nil, &r, true)
	allocs := testing.AllocsPerRun(1000, func() {
		buf = appendLine(buf[:0], &r, rt.redactQuery)
		_ = rt.streamOf(&r)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per line, want 0", allocs)
	}
}
