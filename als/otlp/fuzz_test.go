package otlp

import (
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/sim"
)

// FuzzDecodeLogs holds decodeLogs to the oracle on any input: it never panics, every error
// wraps ErrMalformed, it refuses whatever pdata refuses, and it gives exactly the records
// and counts that pdata's decoding and the old mapping give, with roomy and with tight
// limits; it may refuse what pdata accepts only for groups and deep nesting. The seeds are
// the simulator's requests and hostile shapes. Run longer with
// go test -run x -fuzz FuzzDecodeLogs -fuzztime 2m ./als/otlp/.
func FuzzDecodeLogs(f *testing.F) {
	edge, err := config.ExampleEdge()
	if err != nil {
		f.Fatal(err)
	}
	// Small requests of the simulator's entries: the fuzzer mutates short inputs faster.
	g, err := sim.NewGenerator(edge, 11, sim.Workload{Rate: 500})
	if err != nil {
		f.Fatal(err)
	}
	for n := range 4 {
		entries := make([]*accesslogv3.HTTPAccessLogEntry, n)
		for i := range entries {
			entries[i] = new(accesslogv3.HTTPAccessLogEntry)
			g.Next(entries[i])
		}
		wire, err := sim.LogRequest("node-1", "edge", entries).MarshalProto()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire)
	}
	str := func(s string) []byte { return field(nil, 1, []byte(s)) }
	for _, lr := range [][]byte{
		field(nil, 6, kv("response_flags", str("UF, ,UT"))),
		field(nil, 6, kv("path", field(nil, 6, field(nil, 1, kv("a", field(nil, 5, field(nil, 1, str("x")))))))),
		field(nil, 6, kv("duration", field(nil, 2, uint64(1)))),
		append(field(nil, 9, make([]byte, 16)), field(nil, 10, []byte{1, 2, 3, 4, 5, 6, 7, 8})...),
		protowire.AppendTag(nil, 20, protowire.StartGroupType),
	} {
		f.Add(inRecord(lr))
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		for _, lim := range []limits{roomy, tight} {
			if d := agree(wire, lim); d != "" {
				t.Fatalf("%+v: %s", lim, d)
			}
		}
	})
}
