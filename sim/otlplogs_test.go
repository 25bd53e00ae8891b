package sim

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/collector/pdata/plog"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgetel/edgetel/als/logformat"
	"github.com/edgetel/edgetel/model"
)

// recordsByNode groups the log records the server read by their resource's node_name,
// checking the resource attributes on the way.
func recordsByNode(t *testing.T, f *fakeOTLP) map[string][]plog.LogRecord {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]plog.LogRecord{}
	for _, rl := range f.logs {
		res := rl.Resource().Attributes().AsRaw()
		if res["log_name"] != LogName || res["cluster_name"] != DefaultNodeCluster || res["zone_name"] != "" {
			t.Fatalf("resource attributes %v, want Envoy's built-in labels", res)
		}
		node := res["node_name"].(string)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out[node] = append(out[node], lr)
			}
		}
	}
	return out
}

// entryOfRecord rebuilds, from a record's attributes alone, what count needs of an entry:
// the mapping the sink will use.
func entryOfRecord(t *testing.T, lr plog.LogRecord) *accesslogv3.HTTPAccessLogEntry {
	t.Helper()
	a := map[string]string{}
	for k, v := range lr.Attributes().All() {
		a[k] = v.Str()
	}
	code, err1 := strconv.ParseUint(a["response_code"], 10, 32)
	ns, err2 := strconv.ParseInt(a["duration_ns"], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("record attributes %v: want a response_code and a duration_ns", a)
	}
	var flags Flags
	for _, code := range strings.Split(a["response_flags"], ",") {
		for f, c := range flagCodes {
			if c == code {
				flags |= f
			}
		}
	}
	return &accesslogv3.HTTPAccessLogEntry{
		CommonProperties: &accesslogv3.AccessLogCommon{RouteName: a["route_name"], ResponseFlags: flags.Proto(),
			TimeToLastDownstreamTxByte: durationpb.New(time.Duration(ns))},
		Request:  &accesslogv3.HTTPRequestProperties{RequestHeaders: map[string]string{"traceparent": a["traceparent"]}},
		Response: &accesslogv3.HTTPResponseProperties{ResponseCode: wrapperspb.UInt32(uint32(code))},
	}
}

func TestAccessLogsSentAsOTLPLogsAreTheSameEntriesWithTheSameTruth(t *testing.T) {
	const n = 1500
	alsSrv, otlpSrv := startFakeALS(t, 0), startFakeALS(t, 0)
	alsFleet := newFleet(t, testConfig(t, alsSrv.addr))
	c := testConfig(t, otlpSrv.addr)
	c.AccessLogProtocol = OTLPProtocol
	otlpFleet := newFleet(t, c)
	for _, f := range []*Fleet{alsFleet, otlpFleet} {
		if err := f.SendN(testContext(t), n); err != nil {
			t.Fatal(err)
		}
	}
	truth := otlpFleet.Truth()
	if !truth.Exact() || truth.Sent != n || !reflect.DeepEqual(truth.Routes, alsFleet.Truth().Routes) {
		t.Fatalf("exact %v, sent %d: want exact, %d sent, the routes of the same traffic over ALS", truth.Exact(), truth.Sent, n)
	}
	if len(otlpSrv.snapshot()) != 0 {
		t.Error("the OTLP fleet opened access-log streams")
	}
	records, got := recordsByNode(t, otlpSrv.otlp), map[string]RouteTruth{}
	for node, streams := range byNode(t, alsSrv.snapshot()) {
		var entries []*accesslogv3.HTTPAccessLogEntry
		for _, m := range streams[0] {
			entries = append(entries, m.msg.GetHttpLogs().GetLogEntry()...)
		}
		want := LogRequest(node, DefaultNodeCluster, entries).Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		if len(records[node]) != want.Len() {
			t.Fatalf("node %s: %d records, want its %d ALS entries", node, len(records[node]), want.Len())
		}
		for i, lr := range records[node] {
			w := want.At(i)
			if lr.Timestamp() != w.Timestamp() || lr.TraceID() != w.TraceID() || lr.SpanID() != w.SpanID() ||
				lr.Body().Str() != w.Body().Str() || !reflect.DeepEqual(lr.Attributes().AsRaw(), w.Attributes().AsRaw()) {
				t.Fatalf("node %s record %d differs from its ALS entry's:\n%v\n%v", node, i, lr.Attributes().AsRaw(), w.Attributes().AsRaw())
			}
			count(t, c.Edge, got, entryOfRecord(t, lr))
		}
	}
	if !reflect.DeepEqual(truth.Routes, got) {
		t.Errorf("the truth differs from what the records say:\n%s", diffRoutes(truth.Routes, got))
	}
}

func TestALogRecordCarriesTheEntrysIDsAndEnvoysBody(t *testing.T) {
	edge := exampleEdge(t)
	g := newTestGenerator(t, edge, Workload{Rate: 100})
	e := new(accesslogv3.HTTPAccessLogEntry)
	r := g.Next(e)
	lr := plog.NewLogRecord()
	FillLogRecord(lr, e)
	a := lr.Attributes().AsRaw()
	if lr.TraceID() != r.TraceID || lr.SpanID() != r.SpanID || a["request_id"] != r.RequestID ||
		a["route_name"] != r.RouteName || a["traceparent"] != Traceparent(r.TraceID, r.SpanID, r.Sampled) {
		t.Errorf("record %v with trace %v span %v: want request %+v's IDs", a, lr.TraceID(), lr.SpanID(), r)
	}
	if !lr.Timestamp().AsTime().Equal(r.Start) || a["duration_ns"] != strconv.FormatInt(int64(r.Duration), 10) {
		t.Errorf("timestamp %v, duration_ns %v: want the start %v and duration %v", lr.Timestamp().AsTime(), a["duration_ns"], r.Start, r.Duration)
	}
	if body := lr.Body().Str(); !strings.HasPrefix(body, "[") || !strings.Contains(body, `"`+r.RequestID+`"`) {
		t.Errorf("body %q: want Envoy's default format", body)
	}
	for _, la := range LogAttributes {
		if !strings.HasPrefix(la.Operator, "%") || la.value == nil {
			t.Errorf("attribute %s: operator %q, want a command operator and a renderer", la.Key, la.Operator)
		}
	}
}

func TestLogAttributesAreTheFormatTheControlPlaneConfigures(t *testing.T) {
	var got []logformat.Attribute
	for _, la := range LogAttributes {
		got = append(got, logformat.Attribute{Key: la.Key, Operator: la.Operator})
	}
	if d := cmp.Diff(logformat.Attributes, got); d != "" {
		t.Errorf("sim.LogAttributes differ from logformat.Attributes (-format +sim):\n%s", d)
	}
}

func TestTheFleetUsesTheLoggerTheGlobalPolicyConfigures(t *testing.T) {
	for protocol, want := range map[string]string{
		"": ALSProtocol, model.AccessLogALS: ALSProtocol, model.AccessLogOTLP: OTLPProtocol,
	} {
		e := &model.Edge{AccessLog: model.AccessLog{Protocol: protocol}}
		if got := DefaultConfig(e).AccessLogProtocol; got != want {
			t.Errorf("policy protocol %q: the fleet sends %q, want %q", protocol, got, want)
		}
	}
}
