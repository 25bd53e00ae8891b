package sim

import (
	"encoding/hex"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/model"
)

var (
	traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$`)
	// Envoy's UUIDs: version 4, the version nibble replaced by '9' for sampled requests.
	requestIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[49][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

func newTestGenerator(t testing.TB, edge *model.Edge, w Workload) *Generator {
	t.Helper()
	if w.Epoch.IsZero() {
		w.Epoch = testEpoch
	}
	g, err := NewGenerator(edge, 11, w)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestTraceparentsAreValidAndSampledFlagsFollowTheRoutesSamplingPercent(t *testing.T) {
	edge := exampleEdge(t)
	g := newTestGenerator(t, edge, Workload{Rate: 100, Unmatched: 0.05})
	type count struct{ n, sampled int }
	counts := map[string]*count{}
	var e accesslogv3.HTTPAccessLogEntry
	for range 20000 {
		r := g.Next(&e)
		m := traceparentRE.FindStringSubmatch(e.GetRequest().GetRequestHeaders()["traceparent"])
		if m == nil || strings.Trim(m[1], "0") == "" || strings.Trim(m[2], "0") == "" {
			t.Fatalf("invalid traceparent in %v", &e)
		}
		if m[1] != hex.EncodeToString(r.TraceID[:]) || (m[3] == "1") != r.Sampled {
			t.Fatalf("traceparent %s disagrees with the request's trace %x sampled %v", m[0], r.TraceID, r.Sampled)
		}
		id := e.GetRequest().GetRequestId()
		if !requestIDRE.MatchString(id) || (id[14] == '9') != r.Sampled {
			t.Fatalf("request ID %q is not Envoy's UUID for a request sampled=%v", id, r.Sampled)
		}
		c := counts[r.RouteName]
		if c == nil {
			c = &count{}
			counts[r.RouteName] = c
		}
		c.n++
		if r.Sampled {
			c.sampled++
		}
	}
	for name, c := range counts {
		p := edge.DefaultSamplingPercent / 100
		if r := edge.Route(name); r != nil {
			p = r.SamplingPercent / 100
		}
		got, bound := float64(c.sampled)/float64(c.n), 4*math.Sqrt(p*(1-p)/float64(c.n))+1e-9
		if math.Abs(got-p) > bound {
			t.Errorf("%s: %.4f of %d requests sampled, want %.4f ± %.4f", name, got, c.n, p, bound)
		}
	}
	if len(counts) != len(edge.Routes)+1 {
		t.Errorf("requests went to %d routes, want the %d routes and unmatched", len(counts), len(edge.Routes))
	}
}

func TestEntriesLookLikeEnvoysAndWeighAbout530Bytes(t *testing.T) {
	edge := exampleEdge(t)
	g := newTestGenerator(t, edge, Workload{Rate: 100, Unmatched: 0.01})
	total := 0
	const n = 5000
	for range n {
		e := new(accesslogv3.HTTPAccessLogEntry)
		r := g.Next(e)
		total += proto.Size(e)
		checkEntry(t, r, e)
	}
	if avg := total / n; avg < 480 || avg > 580 {
		t.Errorf("entries weigh %d bytes on average, want about 530", avg)
	}
}

func checkEntry(t *testing.T, r *Request, e *accesslogv3.HTTPAccessLogEntry) {
	t.Helper()
	cp, req := e.GetCommonProperties(), e.GetRequest()
	code := e.GetResponse().GetResponseCode().GetValue()
	d := cp.GetTimeToLastDownstreamTxByte().AsDuration()
	if d != r.Duration || cp.GetDuration().AsDuration() != d || !cp.GetStartTime().AsTime().Equal(r.Start) {
		t.Fatalf("times disagree with the request (%v from %v): %v", r.Duration, r.Start, e)
	}
	if cp.GetResponseFlags() == nil || req.GetRequestHeaders()["user-agent"] != req.GetUserAgent() {
		t.Fatalf("Envoy always sends response_flags and logs the configured headers: %v", e)
	}
	if r.Route == nil {
		if cp.GetRouteName() != "" || cp.GetUpstreamCluster() != "" || code != 404 || !cp.GetResponseFlags().GetNoRouteFound() {
			t.Fatalf("an unmatched request is a 404 NR without route or cluster: %v", e)
		}
		return
	}
	if cp.GetRouteName() != r.Route.Name || cp.GetUpstreamCluster() != r.Route.Backend.Cluster ||
		!strings.HasPrefix(req.GetPath(), r.Route.Match.Prefix) || req.GetAuthority() != r.Route.Hosts[0] {
		t.Fatalf("entry does not match its route %s: %v", r.Route.Name, e)
	}
	flagged := FlagsOf(cp.GetResponseFlags()) != 0
	if r.Bad() != (code >= 500) || flagged && code < 500 {
		t.Fatalf("a %v request answered %d with flags %v", r.Cause, code, cp.GetResponseFlags())
	}
	if r.Cause == CauseTimeout && d < r.Route.Timeout {
		t.Fatalf("an upstream timeout after %v, before the route timeout %v", d, r.Route.Timeout)
	}
}

func TestMarshalBatchEncodesTheMessageAStreamCarries(t *testing.T) {
	g := newTestGenerator(t, exampleEdge(t), Workload{Rate: 100})
	entries := make([]*accesslogv3.HTTPAccessLogEntry, 30)
	for i := range entries {
		entries[i] = new(accesslogv3.HTTPAccessLogEntry)
		g.Next(entries[i])
	}
	id := Identifier("edge-7", "edge", LogName)
	b, err := MarshalBatch([]byte("prefix"), id, entries)
	if err != nil || !strings.HasPrefix(string(b), "prefix") {
		t.Fatalf("MarshalBatch: %v, or it did not append", err)
	}
	var got alsv3.StreamAccessLogsMessage
	if err := proto.Unmarshal(b[len("prefix"):], &got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&got, Message(id, entries)) {
		t.Error("the decoded batch differs from the message")
	}
}

func TestTheVirtualClockAdvancesAtTheGeneratorsRate(t *testing.T) {
	g := newTestGenerator(t, exampleEdge(t), Workload{Rate: 100})
	var r Request
	for range 20000 {
		g.NextRequest(&r)
	}
	if got := g.Now().Sub(testEpoch); got < 190*time.Second || got > 210*time.Second {
		t.Errorf("20,000 requests at 100/s took %v of virtual time, want about 200s", got)
	}
	g.AdvanceTo(testEpoch) // never back
	if g.Now().Before(testEpoch.Add(190 * time.Second)) {
		t.Error("AdvanceTo moved the clock back")
	}
}

func TestTheDefaultConfigIsTheDemoAndValidates(t *testing.T) {
	edge := exampleEdge(t)
	c := DefaultConfig(edge)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Nodes != 3 || c.Rate != 200 || c.Address != "127.0.0.1:4317" || len(c.Incidents) != 1 || c.Unmatched == 0 ||
		!c.Stats || !c.Spans || c.StatsFlushInterval != 10*time.Second || c.AccessLogProtocol != ALSProtocol {
		t.Errorf("DefaultConfig = %+v, want the demo's fleet", c)
	}
	if c := DefaultConfig(&model.Edge{}); len(c.Incidents) != 0 {
		t.Errorf("a model without shop/checkout got incidents %v", c.Incidents)
	}
}

func TestConfigValidationNamesWhatIsWrong(t *testing.T) {
	edge := exampleEdge(t)
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"a negative node count", func(c *Config) { c.Nodes = -1 }, "Nodes"},
		{"a rate that is not a number", func(c *Config) { c.Rate = math.NaN() }, "Rate"},
		{"an address without a port", func(c *Config) { c.Address = "localhost" }, "Address"},
		{"no model", func(c *Config) { c.Edge = nil }, "Edge"},
		{"a profile for a route the model lacks", func(c *Config) { c.Profiles = map[string]Profile{"shop/nope": {}} }, `Profiles["shop/nope"]`},
		{"an error ratio over 1", func(c *Config) {
			p := DefaultProfile(*edge.Route("shop/cart"))
			p.ErrorRatio = 1.5
			c.Profiles = map[string]Profile{"shop/cart": p}
		}, "ErrorRatio"},
		{"an incident on a route the model lacks", func(c *Config) { c.Incidents = []Incident{{Route: "x/y", Duration: 1}} }, "Incidents[0].Route"},
		{"an unmatched share over 1", func(c *Config) { c.Unmatched = 2 }, "Unmatched"},
		{"an unknown clock", func(c *Config) { c.Clock = 7 }, "Clock"},
		{"an unknown access-log protocol", func(c *Config) { c.AccessLogProtocol = "syslog" }, "AccessLogProtocol"},
		{"a negative stats flush interval", func(c *Config) { c.StatsFlushInterval = -time.Second }, "StatsFlushInterval"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig(edge)
			tc.change(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want ErrInvalidConfig naming %s", err, tc.want)
			}
			if _, err := New(c); err == nil {
				t.Error("New accepted the config")
			}
		})
	}
}
