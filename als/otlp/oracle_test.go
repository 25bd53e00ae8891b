package otlp

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/sim"
)

// extract is decodeLogs of ld's encoding, for tests that build requests with pdata.
func extract(ld plog.Logs, lim limits, b *Batch) extracted {
	wire, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		panic(err)
	}
	x, err := decodeLogs(wire, lim, b)
	if err != nil {
		panic(err)
	}
	return x
}

// outcome is everything a decoding gives: the records, what was done with the rest, and
// how many records the request held.
type outcome struct {
	records  []als.Record
	x        extracted
	received int
}

// viaPdata is the oracle's outcome: pdata's decoding, then the mapping the receiver used.
func viaPdata(wire []byte, lim limits) (outcome, error) {
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(wire); err != nil {
		return outcome{}, err
	}
	var b Batch
	x := pdataExtract(req.Logs(), lim, &b)
	return outcome{b.Records, x, req.Logs().LogRecordCount()}, nil
}

func viaWire(wire []byte, lim limits) (outcome, error) {
	var b Batch
	x, err := decodeLogs(wire, lim, &b)
	return outcome{b.Records, x, len(b.Records) + x.invalid + x.overLimit}, err
}

// agree reports how the wire decoder's outcome differs from the oracle's, or "". The
// decoder may refuse what pdata accepts only for the reasons it documents: groups, and
// values nested deeper than maxDepth.
func agree(wire []byte, lim limits) string {
	want, werr := viaPdata(wire, lim)
	got, gerr := viaWire(wire, lim)
	switch {
	case gerr != nil && !errors.Is(gerr, ErrMalformed):
		return fmt.Sprintf("error does not wrap ErrMalformed: %v", gerr)
	case werr != nil && gerr == nil:
		return fmt.Sprintf("pdata refuses (%v), the wire decoder accepts", werr)
	case werr != nil || errors.Is(gerr, errGroup) || errors.Is(gerr, errDepth):
		return ""
	case gerr != nil:
		return fmt.Sprintf("the wire decoder refuses what pdata accepts: %v", gerr)
	case !reflect.DeepEqual(got.x, want.x) || got.received != want.received:
		return fmt.Sprintf("counts %+v of %d, want %+v of %d", got.x, got.received, want.x, want.received)
	case len(got.records) != len(want.records):
		return fmt.Sprintf("%d records, want %d", len(got.records), len(want.records))
	}
	for i := range got.records {
		if !reflect.DeepEqual(got.records[i].Clone(), want.records[i].Clone()) { // Clone decodes the trace IDs
			return fmt.Sprintf("record %d:\ngot  %+v\nwant %+v", i, got.records[i], want.records[i])
		}
	}
	return ""
}

var (
	roomy = limits{maxRecords: DefaultMaxRecordsPerRequest, maxValue: DefaultMaxValueBytes}
	tight = limits{maxRecords: 2, maxValue: minValueBytes}
)

func TestTheWireDecoderGivesThePdataMappingsRecordsForTheSimulatorsRequests(t *testing.T) {
	edge, err := config.ExampleEdge()
	if err != nil {
		t.Fatal(err)
	}
	lc, err := sim.NewLoadCorpus(edge, 7, sim.Workload{Rate: 500}, 2000)
	if err != nil {
		t.Fatal(err)
	}
	for i, wire := range lc.OTLP {
		for _, lim := range []limits{roomy, tight} {
			if d := agree(wire, lim); d != "" {
				t.Fatalf("corpus request %d, %+v: %s", i, lim, d)
			}
		}
	}
}

// edit is a request built by hand: the resource and records of logsOf, then changes.
func edit(f func(ld plog.Logs)) []byte {
	ld := logsOf(map[string]any{"route_name": "shop/cart", "response_code": "200", "duration_ns": "1000"})
	f(ld)
	wire, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		panic(err)
	}
	return wire
}

func record(ld plog.Logs) plog.LogRecord {
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}

func attrs(ld plog.Logs) pcommon.Map { return record(ld).Attributes() }

// field appends a field of number num to wire, a length-delimited one when v is []byte.
func field(wire []byte, num protowire.Number, v any) []byte {
	switch v := v.(type) {
	case []byte:
		return protowire.AppendBytes(protowire.AppendTag(wire, num, protowire.BytesType), v)
	case uint64:
		return protowire.AppendVarint(protowire.AppendTag(wire, num, protowire.VarintType), v)
	case float64:
		return protowire.AppendFixed64(protowire.AppendTag(wire, num, protowire.Fixed64Type), math.Float64bits(v))
	}
	panic(v)
}

// kv is a KeyValue's encoding; value is an AnyValue's.
func kv(key string, value []byte) []byte { return field(field(nil, 1, []byte(key)), 2, value) }

// inRecord wraps a LogRecord's encoding in a request of one resource (node "n") and scope.
func inRecord(lr []byte) []byte {
	res := field(nil, 1, kv("node_name", field(nil, 1, []byte("n"))))
	rl := field(field(nil, 1, res), 2, field(nil, 2, lr))
	return field(nil, 1, rl)
}

func TestTheWireDecoderGivesThePdataMappingsRecordsForEdgeCases(t *testing.T) {
	str := func(s string) []byte { return field(nil, 1, []byte(s)) }
	cases := []struct {
		name string
		wire []byte
	}{
		{"a record without attributes is a record of the resource alone", edit(func(ld plog.Logs) { attrs(ld).Clear() })},
		{"a request without a resource has records without a node", edit(func(ld plog.Logs) {
			ld.ResourceLogs().At(0).Resource().Attributes().Clear()
		})},
		{"an empty request has no records", edit(func(ld plog.Logs) { ld.ResourceLogs().RemoveIf(func(plog.ResourceLogs) bool { return true }) })},
		{"non-string values are read as pdata renders them", edit(func(ld plog.Logs) {
			a := attrs(ld)
			a.PutBool("route_name", true)
			a.PutDouble("path", 1e-7)
			a.PutDouble("authority", 12.5)
			a.PutEmptyBytes("user_agent").FromRaw([]byte{0xff, 0, 1})
			a.PutEmptyMap("method").PutStr("b", "<&>")
			a.PutEmptySlice("upstream_host").AppendEmpty().SetDouble(math.Inf(1))
			a.PutEmpty("request_id")
			a.PutInt("upstream_cluster", -3)
		})},
		{"integer numbers are read, and a negative one rejects its record", edit(func(ld plog.Logs) {
			a := attrs(ld)
			a.PutInt("response_code", 503)
			a.PutInt("bytes_sent", 1<<40)
			lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
			lr.Attributes().PutInt("bytes_received", -1)
			lr.Attributes().PutStr("path", "/never")
		})},
		{"a number of the wrong type rejects its record", edit(func(ld plog.Logs) { attrs(ld).PutDouble("duration_ns", 1) })},
		{"flags that are not a string are rendered, then parsed", edit(func(ld plog.Logs) { attrs(ld).PutInt("response_flags", 7) })},
		{"the observed timestamp stands in for an unset one", edit(func(ld plog.Logs) {
			record(ld).SetTimestamp(0)
			record(ld).SetObservedTimestamp(pcommon.Timestamp(1_700_000_000_000_000_001))
		})},
		{"the record's IDs stand in for a missing traceparent", edit(func(ld plog.Logs) {
			record(ld).SetTraceID(testTraceID)
			record(ld).SetSpanID(testSpanID)
			record(ld).SetFlags(plog.DefaultLogRecordFlags.WithIsSampled(true))
		})},
		{"a dash traceparent falls back to the record's IDs too", edit(func(ld plog.Logs) {
			attrs(ld).PutStr("traceparent", "-")
			record(ld).SetTraceID(testTraceID)
			record(ld).SetSpanID(testSpanID)
		})},
		{"records of every resource and scope are taken in order", edit(func(ld plog.Logs) {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("node_name", "node-2")
			rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes().PutStr("route_name", "b")
			rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes().PutStr("route_name", "c")
		})},
		{"a long resource attribute is cut and counted even without records", edit(func(ld plog.Logs) {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("cluster_name", string(make([]byte, 5000)))
		})},
		{"an attribute sent twice keeps the last, a bad one after a bad one is not read", inRecord(append(append(append(
			field(nil, 6, kv("route_name", str("a"))), field(nil, 6, kv("route_name", str("b")))...),
			field(nil, 6, kv("response_code", str("x")))...), field(nil, 6, kv("duration_ns", str("y")))...))},
		{"a value sent twice is merged, a key sent twice keeps the last", inRecord(field(nil, 6, append(append(
			kv("nope", str("a")), field(nil, 1, []byte("path"))...), field(nil, 2, field(nil, 3, uint64(5)))...)))},
		{"a resource sent twice is merged, its first node_name taken", func() []byte {
			r1 := field(nil, 1, kv("node_name", str("first")))
			r2 := field(nil, 1, kv("node_name", str("second")))
			rl := append(append(field(nil, 2, field(nil, 2, field(nil, 6, kv("path", str("/p"))))), field(nil, 1, r1)...), field(nil, 1, r2)...)
			return field(nil, 1, rl)
		}()},
		{"unknown fields are skipped at every level", func() []byte {
			lr := append(field(field(nil, 99, uint64(1)), 6, kv("path", append(str("/u"), field(nil, 77, []byte("x"))...))), field(nil, 15, 2.5)...)
			return append(field(inRecord(lr), 42, []byte("junk")), field(nil, 43, uint64(1<<60))...)
		}()},
		{"deprecated scope logs count only when there are no scope logs", func() []byte {
			old := field(nil, 2, field(nil, 6, kv("path", str("/old"))))
			rl := field(nil, protowire.Number(rlDeprecatedScopeLogs), old)
			both := append(append([]byte(nil), rl...), field(nil, 2, field(nil, 2, field(nil, 6, kv("path", str("/new")))))...)
			return append(field(nil, 1, rl), field(nil, 1, both)...)
		}()},
		{"a string_value_strindex is an empty value", inRecord(field(nil, 6, kv("response_code", field(nil, 8, uint64(3)))))},
		{"a double duration in milliseconds is rendered, then parsed", inRecord(field(nil, 6, kv("duration", field(nil, 4, 42.0))))},
	}
	malformed := []struct {
		name string
		wire []byte
	}{
		{"a trace ID of the wrong length is malformed", inRecord(field(nil, 9, []byte{1, 2, 3}))},
		{"a known field of the wrong wire type is malformed", inRecord(field(nil, 6, uint64(1)))},
		{"a truncated request is malformed", inRecord(field(nil, 6, kv("path", str("/p"))))[:20]},
	}
	for i, c := range append(cases, malformed...) {
		t.Run(c.name, func(t *testing.T) {
			if _, err := viaPdata(c.wire, roomy); (err != nil) != (i >= len(cases)) {
				t.Fatalf("pdata decodes it with error %v; the case is in the wrong table", err)
			}
			for _, lim := range []limits{roomy, tight} {
				if d := agree(c.wire, lim); d != "" {
					t.Errorf("%+v: %s", lim, d)
				}
			}
		})
	}
}
