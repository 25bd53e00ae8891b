package als

import (
	"errors"
	"slices"
	"testing"

	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/protobuf/proto"
)

// FuzzDecode checks three properties on any input:
//   - Decode never panics, and every error it returns wraps ErrMalformed;
//   - where both Decode and proto.Unmarshal accept the input, they read the same fields;
//   - whatever proto.Unmarshal accepts, Decode accepts once re-encoded canonically (unknown
//     fields dropped, which is where the two may differ by design: see Decoder), and
//     reads the same fields.
//
// The seeds are real messages, plus hostile shapes. Run longer with
// go test -run x -fuzz FuzzDecode ./als/.
func FuzzDecode(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		// Tight limits, for the paths that cut and drop. Entries past MaxEntries are skipped
		// unparsed, so only a message with some may pass them and fail without limits.
		var b Batch
		tight := NewDecoder(Limits{MaxEntries: 1, MaxValueBytes: 1}).Decode(wire, &b)
		dropped := b.Dropped
		err := NewDecoder(huge).Decode(wire, &b)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error does not wrap ErrMalformed: %v", err)
		}
		if tight != nil && err == nil || tight == nil && err != nil && dropped == 0 {
			t.Fatalf("limits changed whether the message is valid: %v, then %v", tight, err)
		}
		var m accesslogv3.StreamAccessLogsMessage
		if proto.Unmarshal(wire, &m) != nil {
			return // invalid UTF-8 in a string, and other input Decode may accept: see Decoder
		}
		if err == nil {
			if d := diff(expect(&m, nil, nil, nil), got(&b)); d != "" {
				t.Fatalf("Decode and proto.Unmarshal differ (-proto +decode):\n%s", d)
			}
		}
		known := &accesslogv3.StreamAccessLogsMessage{}
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(wire, known); err != nil {
			t.Fatalf("proto.Unmarshal accepts but not with DiscardUnknown: %v", err)
		}
		canonical, err := proto.MarshalOptions{Deterministic: true}.Marshal(known)
		if err != nil {
			t.Fatal(err)
		}
		if err := NewDecoder(huge).Decode(canonical, &b); err != nil {
			t.Fatalf("Decode rejects a message proto.Unmarshal accepts, re-encoded: %v", err)
		}
		if d := diff(expect(known, nil, nil, nil), got(&b)); d != "" {
			t.Fatalf("Decode and proto.Unmarshal differ on the re-encoded message (-proto +decode):\n%s", d)
		}
	})
}

func fuzzSeeds(t testing.TB) [][]byte {
	realistic := httpMessage(identity("edge-1", "access"), realisticEntry(0), realisticEntry(1))
	flagged := realisticEntry(2)
	flagged.CommonProperties.ResponseFlags = &datav3.ResponseFlags{
		UpstreamConnectionFailure: true, NoRouteFound: true,
		UnauthorizedDetails: &datav3.ResponseFlags_Unauthorized{},
	}
	entry := mustMarshal(t, realisticEntry(3))
	return [][]byte{
		mustMarshal(t, realistic),
		mustMarshal(t, httpMessage(nil, flagged, &datav3.HTTPAccessLogEntry{})),
		mustMarshal(t, &accesslogv3.StreamAccessLogsMessage{LogEntries: &accesslogv3.StreamAccessLogsMessage_TcpLogs{
			TcpLogs: &accesslogv3.StreamAccessLogsMessage_TCPAccessLogEntries{LogEntry: []*datav3.TCPAccessLogEntry{{}}},
		}}),
		httpLogsWire(slices.Concat(entry, entry)), // one entry sent twice: merges
		slices.Concat(mustMarshal(t, realistic), groupsOf(3)),
		httpLogsWire(entry[:len(entry)/2]),
		{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f},
		nil,
	}
}
