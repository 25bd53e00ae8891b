package otlp

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/edgetel/edgetel/als"
)

func TestHostileRequestsAreRefusedAsMalformedWithoutCrashing(t *testing.T) {
	nested := field(nil, 1, []byte("deep"))
	for range 10000 {
		nested = field(nil, protowire.Number(anyArray), field(nil, 1, nested))
	}
	cases := []struct {
		name  string
		wire  []byte
		cause error
	}{
		{"values nested ten thousand deep are refused, not recursed into",
			inRecord(field(nil, 6, kv("path", nested))), errDepth},
		{"a length past the end of the message", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}, errTruncated},
		{"a length that is negative as an int", append([]byte{0x0a}, protowire.AppendVarint(nil, 1<<63)...), errLength},
		{"a varint of eleven bytes", append(bytes.Repeat([]byte{0x80}, 10), 0x01), errOverflow},
		{"a field number of zero", []byte{0x02, 0x00}, errFieldNumber},
		{"a group, which OTLP does not use", inRecord(protowire.AppendTag(nil, 20, protowire.StartGroupType)), errGroup},
		{"an end of group alone", protowire.AppendTag(nil, 20, protowire.EndGroupType), errGroup},
		{"wire type 7", []byte{0x0f}, errWireType},
		{"a record field of the wrong wire type", inRecord(field(nil, 1, []byte("not a fixed64"))), errWireType},
		{"a span ID of nine bytes", inRecord(field(nil, 10, make([]byte, 9))), errIDLength},
		{"a message cut in the middle of a fixed64", inRecord([]byte{0x09, 1, 2, 3}), errTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := Batch{Records: make([]als.Record, 0, 1)}
			_, err := decodeLogs(c.wire, roomy, &b)
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, c.cause) {
				t.Errorf("got %v, want ErrMalformed and %v", err, c.cause)
			}
			if len(b.Records) != 0 {
				t.Errorf("%d records kept from a malformed request", len(b.Records))
			}
		})
	}
}

func TestAMillionRecordsPastTheLimitAreCountedNotKept(t *testing.T) {
	const n = 1 << 20
	lrs := bytes.Repeat([]byte{byte(slLogRecords<<3 | 2), 0}, n) // empty LogRecords
	wire := field(nil, 1, field(nil, 2, lrs))
	var b Batch
	x, err := decodeLogs(wire, limits{maxRecords: DefaultMaxRecordsPerRequest, maxValue: DefaultMaxValueBytes}, &b)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != DefaultMaxRecordsPerRequest || x.overLimit != n-DefaultMaxRecordsPerRequest {
		t.Errorf("%d records kept, %d over the limit; want %d and %d",
			len(b.Records), x.overLimit, DefaultMaxRecordsPerRequest, n-DefaultMaxRecordsPerRequest)
	}
}
