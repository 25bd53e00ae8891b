package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgetel/edgetel/examples"
	"github.com/edgetel/edgetel/model"
)

const header = "apiVersion: edgetel.io/v1alpha1\nkind: EdgeRoute\n"

func route(name, spec string) string {
	return header + "metadata: {name: " + name + ", namespace: shop}\nspec:\n" + spec
}

func mustDecode(t *testing.T, file, doc string) []Policy {
	t.Helper()
	ps, err := Decode(file, []byte(doc))
	if err != nil {
		t.Fatalf("Decode(%s): %v", file, err)
	}
	return ps
}

func TestEveryExamplePolicyIsAccepted(t *testing.T) {
	ps, err := NewDir(examples.Policies(), "examples").Load()
	if err != nil {
		t.Fatal(err)
	}
	out := Compile(Input{Policies: ps})
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	if got := len(out.Edge.Routes); got < 4 || got > 6 {
		t.Errorf("the example set has %d routes, want 4 to 6", got)
	}
	for _, r := range out.Edge.Routes {
		if r.SLO == nil || len(r.SLO.Objectives) < 2 {
			t.Errorf("route %s has no availability and latency objectives", r.Name)
		}
	}
	if out.Edge.Source.Kind != "EdgeConfig" {
		t.Errorf("the global policy came from %v, want the example EdgeConfig", out.Edge.Source)
	}
}

func TestInvalidPoliciesNameTheFileAndField(t *testing.T) {
	base := "  match: {prefix: /checkout/}\n  backend: {address: 127.0.0.1:9004}\n"
	tests := []struct {
		name, spec, field, msg string
	}{
		{"a latency objective without threshold", base + "  slo: {objectives: [{name: latency, indicator: latency, target: 99}]}\n",
			"spec.slo.objectives[0].threshold", "is required"},
		{"a threshold that is not a duration", base + "  slo: {objectives: [{name: latency, target: 99, threshold: fast}]}\n",
			"spec.slo.objectives[0].threshold", `"fast" is not a duration`},
		{"a target of 100 percent", base + "  slo: {objectives: [{name: availability, target: 100}]}\n",
			"spec.slo.objectives[0].target", "above 0 and below 100"},
		{"two objectives with one name", base + "  slo: {objectives: [{name: a, target: 99}, {name: a, target: 98}]}\n",
			"spec.slo.objectives[1].name", "used twice"},
		{"both prefix and path", "  match: {prefix: /a, path: /b}\n  backend: {address: 127.0.0.1:1}\n",
			"spec.match", "exactly one of prefix, path and regex"},
		{"a prefix without a slash", "  match: {prefix: a}\n  backend: {address: 127.0.0.1:1}\n",
			"spec.match.prefix", "must start with /"},
		{"a regex that does not compile", "  match: {regex: '(a'}\n  backend: {address: 127.0.0.1:1}\n",
			"spec.match.regex", "not an RE2 expression"},
		{"an address without a port", "  match: {prefix: /}\n  backend: {address: backend.local}\n",
			"spec.backend.address", "has no port"},
		{"a service without a port", "  match: {prefix: /}\n  backend: {service: checkout}\n",
			"spec.backend.port", "is required with service"},
		{"an unknown retry condition", base + "  retries: {attempts: 2, retryOn: [sometimes]}\n",
			"spec.retries.retryOn[0]", `"sometimes" is not one of`},
		{"a sampling over 100 percent", base + "  tracing: {samplingPercent: 150}\n",
			"spec.tracing.samplingPercent", "out of range"},
		{"an SLO window of one minute", base + "  slo: {window: 1m, objectives: [{name: a, target: 99}]}\n",
			"spec.slo.window", "out of range"},
		{"an unknown HTTP method", "  match: {prefix: /, methods: [FETCH]}\n  backend: {address: 127.0.0.1:1}\n",
			"spec.match.methods[0]", `"FETCH" is not an HTTP method`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Compile(Input{Policies: mustDecode(t, "routes/checkout.yaml", route("checkout", tt.spec))})
			err := out.Err()
			var p *Problem
			if !errors.As(err, &p) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want an ErrInvalid Problem", err)
			}
			want := "routes/checkout.yaml (EdgeRoute shop/checkout): " + tt.field + ": "
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q and %q", err, want, tt.msg)
			}
			if len(out.Edge.Routes) != 0 {
				t.Errorf("the invalid route is in force: %v", out.Edge.Routes)
			}
		})
	}
}

func TestDecodeRejectsWhatIsNotAPolicy(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"an unknown field is named with its path", route("a", "  match: {prefix: /}\n  backend: {address: 127.0.0.1:1}\n  retries: {on: [5xx]}\n"), `unknown field "spec.retries.true" (YAML reads a key on, yes or y as true: retries take retryOn)`},
		{"another apiVersion", "apiVersion: v1\nkind: EdgeRoute\n", `apiVersion: is "v1"`},
		{"another kind", "apiVersion: edgetel.io/v1alpha1\nkind: Service\n", `kind: is "Service"`},
		{"broken YAML", "apiVersion: [", "routes/a.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("routes/a.yaml", []byte(tt.doc))
			if !errors.Is(err, ErrParse) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrParse containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeNumbersDocumentsAndDefaultsTheNamespace(t *testing.T) {
	doc := "# comment only\n---\n" + header + "metadata: {name: a}\nspec: {match: {prefix: /}, backend: {address: 127.0.0.1:1}}\n---\n" +
		header + "metadata: {name: b, namespace: team}\nspec: {match: {prefix: /b}, backend: {address: 127.0.0.1:1}}\n"
	ps := mustDecode(t, "f.yaml", doc)
	got := []model.Source{ps[0].Source, ps[1].Source}
	want := []model.Source{
		{File: "f.yaml", Doc: 1, Kind: "EdgeRoute", Namespace: "default", Name: "a"},
		{File: "f.yaml", Doc: 2, Kind: "EdgeRoute", Namespace: "team", Name: "b"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

func TestARouteThatTurnsInvalidKeepsItsLastGoodVersion(t *testing.T) {
	good := mustDecode(t, "c.yaml", route("checkout", "  match: {prefix: /checkout/}\n  backend: {address: 127.0.0.1:9004}\n  slo: {objectives: [{name: latency, target: 99, threshold: 300ms}]}\n"))
	first := Compile(Input{Policies: good})
	if err := first.Err(); err != nil {
		t.Fatal(err)
	}
	bad := mustDecode(t, "c.yaml", route("checkout", "  match: {prefix: /checkout/}\n  backend: {address: 127.0.0.1:9004}\n  slo: {objectives: [{name: latency, target: 99, threshold: fast}]}\n"))
	second := Compile(Input{Policies: bad, LastGood: first.LastGood})
	if second.Err() == nil {
		t.Fatal("the broken route was accepted")
	}
	if d := cmp.Diff(first.Edge, second.Edge); d != "" {
		t.Errorf("the model changed though the new version was rejected (-before +after):\n%s", d)
	}
	if v := second.Verdicts[0]; v.Accepted || !v.Stale {
		t.Errorf("verdict %+v, want rejected with the last good version in force", v)
	}
	third := Compile(Input{Policies: nil, LastGood: second.LastGood})
	if len(third.Edge.Routes) != 0 {
		t.Error("a deleted route stays in force")
	}
}

func TestANewRouteCannotTakeAHostAndMatchFromARouteInForce(t *testing.T) {
	spec := "  hosts: [shop.example.com]\n  match: {prefix: /checkout/}\n  backend: {address: 127.0.0.1:9004}\n"
	incumbent := mustDecode(t, "z.yaml", route("zeta", spec))
	first := Compile(Input{Policies: incumbent})
	both := append(mustDecode(t, "a.yaml", route("alpha", spec)), incumbent...)
	out := Compile(Input{Policies: both, LastGood: first.LastGood})
	if got := out.Edge.Routes; len(got) != 1 || got[0].Name != "shop/zeta" {
		t.Fatalf("routes in force %v, want only the incumbent shop/zeta", got)
	}
	err := out.Err()
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "a.yaml (EdgeRoute shop/alpha): spec.match: the same host and match is served by shop/zeta") {
		t.Errorf("got %v, want a conflict naming both routes", err)
	}
}

func TestRoutesWithDifferentMethodsOrHostsDoNotConflict(t *testing.T) {
	a := route("a", "  hosts: [a.example.com]\n  match: {prefix: /x, methods: [GET]}\n  backend: {address: 127.0.0.1:1}\n")
	b := route("b", "  hosts: [a.example.com]\n  match: {prefix: /x, methods: [POST]}\n  backend: {address: 127.0.0.1:1}\n")
	c := route("c", "  hosts: [b.example.com]\n  match: {prefix: /x, methods: [GET]}\n  backend: {address: 127.0.0.1:1}\n")
	out := Compile(Input{Policies: mustDecode(t, "f.yaml", a+"---\n"+b+"---\n"+c)})
	if err := out.Err(); err != nil || len(out.Edge.Routes) != 3 {
		t.Errorf("got %d routes and %v, want 3 and no error", len(out.Edge.Routes), err)
	}
	if out.Edge.Routes[0].Backend.Cluster != out.Edge.Routes[1].Backend.Cluster {
		t.Error("routes to one address do not share a cluster")
	}
}

func TestOnlyOneEdgeConfigIsInForce(t *testing.T) {
	ec := func(name string) string {
		return "apiVersion: edgetel.io/v1alpha1\nkind: EdgeConfig\nmetadata: {name: " + name + "}\nspec: {tracing: {samplingPercent: 7}}\n"
	}
	out := Compile(Input{Policies: mustDecode(t, "g.yaml", ec("b")+"---\n"+ec("a"))})
	if !errors.Is(out.Err(), ErrConflict) || out.Edge.Source.Name != "a" {
		t.Errorf("got %v with %s in force, want a conflict and EdgeConfig a in force", out.Err(), out.Edge.Source)
	}
	if out.Edge.DefaultSamplingPercent != 7 {
		t.Errorf("sampling %v, want 7 from the EdgeConfig", out.Edge.DefaultSamplingPercent)
	}
}

func TestTheGlobalPolicyAlwaysLogsTraceparentAndRedactsCredentials(t *testing.T) {
	doc := "apiVersion: edgetel.io/v1alpha1\nkind: EdgeConfig\nmetadata: {name: edge}\nspec:\n  accessLog: {requestHeaders: [X-Tenant]}\n  redaction: {headers: [X-Api-Key], keepQueryStrings: true}\n"
	out := Compile(Input{Policies: mustDecode(t, "g.yaml", doc)})
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	e := out.Edge
	if d := cmp.Diff([]string{"traceparent", "x-tenant"}, e.AccessLog.RequestHeaders); d != "" {
		t.Error(d)
	}
	if d := cmp.Diff([]string{"authorization", "cookie", "proxy-authorization", "set-cookie", "x-api-key"}, e.Redaction.Headers); d != "" {
		t.Error(d)
	}
	if e.Redaction.QueryStrings {
		t.Error("query strings are redacted though the platform team kept them")
	}
}

func TestRoutesFallBackOnTheGlobalDefaults(t *testing.T) {
	g := "apiVersion: edgetel.io/v1alpha1\nkind: EdgeConfig\nmetadata: {name: edge}\nspec: {tracing: {samplingPercent: 3}, slo: {window: 30d}}\n"
	r := route("a", "  match: {prefix: /}\n  backend: {address: 127.0.0.1:1}\n  slo: {objectives: [{name: availability, target: 99.9}]}\n")
	out := Compile(Input{Policies: mustDecode(t, "f.yaml", g+"---\n"+r)})
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	got := out.Edge.Routes[0]
	if got.SamplingPercent != 3 || got.SLO.Window.Hours() != 30*24 {
		t.Errorf("sampling %v and window %v, want 3 and 720h", got.SamplingPercent, got.SLO.Window)
	}
	if o := got.SLO.Objectives[0]; o.Indicator != model.Availability || o.Target != 0.999 {
		t.Errorf("objective %+v, want availability at 0.999", o)
	}
}

func TestTheGlobalPolicyPicksTheAccessLogger(t *testing.T) {
	doc := func(protocol string) string {
		return "apiVersion: edgetel.io/v1alpha1\nkind: EdgeConfig\nmetadata: {name: edge}\nspec:\n  accessLog: {protocol: " + protocol + "}\n"
	}
	tests := []struct {
		name, protocol, want, err string
	}{
		{"the gRPC access-log service is the default", "''", model.AccessLogALS, ""},
		{"als names the gRPC access-log service", "als", model.AccessLogALS, ""},
		{"otlp names Envoy's OpenTelemetry access logger", "otlp", model.AccessLogOTLP, ""},
		{"anything else is refused by file and field", "syslog", "", `g.yaml (EdgeConfig edge): spec.accessLog.protocol: "syslog" is not an access-log protocol`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Compile(Input{Policies: mustDecode(t, "g.yaml", doc(tt.protocol))})
			if tt.err != "" {
				if err := out.Err(); err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err := out.Err(); err != nil {
				t.Fatal(err)
			}
			if got := out.Edge.AccessLog.Protocol; got != tt.want {
				t.Errorf("protocol %q, want %q", got, tt.want)
			}
		})
	}
}
