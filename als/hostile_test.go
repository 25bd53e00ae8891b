package als

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestDecodeRejectsMalformed feeds messages that are not valid protobuf, or that send a
// field the decoder reads with the wrong wire type. Each must fail with ErrMalformed,
// leave the batch empty and the stream's identity as it was, and not panic.
func TestDecodeRejectsMalformed(t *testing.T) {
	entry := mustMarshal(t, realisticEntry(0))
	varintField := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	tests := []struct {
		name, wire string
		where      string // a part of the error message that locates the fault
	}{
		{"a truncated tag", "\x92", "StreamAccessLogsMessage field 0"},
		{"a truncated varint", "\x08\x80", "StreamAccessLogsMessage field 1"},
		{"a varint longer than ten bytes", "\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", "field 1"},
		{"a length beyond the buffer", "\x12\x05\x0a\x01", "StreamAccessLogsMessage field 2"},
		{"an absurd length", string(protowire.AppendVarint([]byte{0x12}, 1<<62)), "field 2"},
		{"field number zero", "\x00\x01", "field 0"},
		{"http_logs sent as a varint", "\x10\x01", "wrong wire type varint, want bytes"},
		{"the identifier sent as fixed32", "\x0d\x01\x02\x03\x04", "wrong wire type fixed32, want bytes"},
		{"a path sent as a varint",
			string(httpLogsWire(lenField(entryRequest, varintField(requestPath, 7)))),
			"HTTPRequestProperties field 5: wrong wire type"},
		{"a response flag sent as bytes",
			string(httpLogsWire(lenField(entryCommon, lenField(commonResponseFlags, lenField(6, []byte("x")))))),
			"ResponseFlags field 6"},
		{"a status sent as bytes",
			string(httpLogsWire(lenField(entryResponse, lenField(responseCode, lenField(wrapperValue, nil))))),
			"UInt32Value field 1"},
		{"a stray end of group", string(protowire.AppendTag(nil, 7, protowire.EndGroupType)), "unmatched end of group"},
		{"a group closed under another number", "\x3b\x44", "unmatched end of group"}, // start 7, end 8
		{"groups nested too deep", string(groupsOf(maxGroupDepth + 1)), "groups nested too deep"},
		{"an entry cut short after two good ones",
			string(httpLogsWire(entry, entry, entry[:len(entry)-3])), "entry 2"},
		{"good entries then a field cut short reject the whole message", string(slices.Concat(httpLogsWire(entry), []byte{0x12, 0x7f})), "field 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(DefaultLimits())
			var b Batch
			first := mustMarshal(t, httpMessage(identity("edge-1", "access"), realisticEntry(0)))
			if err := d.Decode(first, &b); err != nil {
				t.Fatal(err)
			}
			err := d.Decode([]byte(tc.wire), &b)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got error %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.where) {
				t.Errorf("error %q does not say %q", err, tc.where)
			}
			if len(b.Records) != 0 || b.TCPEntries != 0 {
				t.Errorf("a rejected message left %d records, %d tcp entries", len(b.Records), b.TCPEntries)
			}
			if node, _, _ := d.Identity(); string(node) != "edge-1" {
				t.Errorf("a rejected message changed the stream's node to %q", node)
			}
			// In gRPC's receive buffers, cut anywhere, it fails the same way.
			for k := range len(tc.wire) + 1 {
				sameDecoding(t, []byte(tc.wire), [][]byte{[]byte(tc.wire[:k]), []byte(tc.wire[k:])}, DefaultLimits())
			}
		})
	}
}

// TestDecodeAcceptsOddButValid covers input that is valid protobuf though Envoy does not
// send it: the decoder skips what it does not read.
func TestDecodeAcceptsOddButValid(t *testing.T) {
	entry := mustMarshal(t, realisticEntry(0))
	unknown := slices.Concat(
		protowire.AppendVarint(protowire.AppendTag(nil, 1000, protowire.VarintType), 1),
		protowire.AppendFixed32(protowire.AppendTag(nil, 1001, protowire.Fixed32Type), 1),
		protowire.AppendFixed64(protowire.AppendTag(nil, 1002, protowire.Fixed64Type), 1),
		lenField(1003, []byte("unknown")),
		protowire.AppendTag(protowire.AppendTag(nil, 1004, protowire.StartGroupType), 1004, protowire.EndGroupType),
	)
	tests := []struct {
		name    string
		wire    []byte
		records int
	}{
		{"an empty message", nil, 0},
		{"unknown fields of every wire type at every level", slices.Concat(unknown,
			httpLogsWire(slices.Concat(entry, unknown, lenField(entryRequest, unknown), lenField(entryCommon, unknown))), unknown), 1},
		{"groups nested as deep as allowed", slices.Concat(httpLogsWire(entry), groupsOf(maxGroupDepth)), 1},
		{"an empty entry", httpLogsWire(nil), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if b := decodeOne(t, tc.wire, DefaultLimits()); len(b.Records) != tc.records {
				t.Errorf("got %d records, want %d", len(b.Records), tc.records)
			}
			for k := range len(tc.wire) + 1 { // in gRPC's receive buffers, cut anywhere
				sameDecoding(t, tc.wire, [][]byte{tc.wire[:k], tc.wire[k:]}, DefaultLimits())
			}
		})
	}
}

// groupsOf is n groups nested in an unknown field 99.
func groupsOf(n int) []byte {
	var b []byte
	for range n {
		b = protowire.AppendTag(b, 99, protowire.StartGroupType)
	}
	for range n {
		b = protowire.AppendTag(b, 99, protowire.EndGroupType)
	}
	return b
}

// TestDecodeLimits checks that the limits bound a hostile message and count what they cut.
func TestDecodeLimits(t *testing.T) {
	t.Run("entries past MaxEntries are dropped and counted", func(t *testing.T) {
		entry := mustMarshal(t, realisticEntry(0))
		wire := httpLogsWire(slices.Repeat([][]byte{entry}, 10)...)
		b := decodeOne(t, wire, Limits{MaxEntries: 3})
		if len(b.Records) != 3 || b.Dropped != 7 {
			t.Errorf("got %d records and %d dropped, want 3 and 7", len(b.Records), b.Dropped)
		}
		for k := range len(wire) + 1 {
			sameDecoding(t, wire, [][]byte{wire[:k], wire[k:]}, Limits{MaxEntries: 3})
		}
	})
	t.Run("two million empty entries in 4 MiB cost no more than the limit", func(t *testing.T) {
		wire := httpLogsWire(slices.Repeat([][]byte{nil}, 2<<20)...)
		b := decodeOne(t, wire, DefaultLimits())
		if len(b.Records) != DefaultMaxEntries || cap(b.Records) > 2*DefaultMaxEntries || b.Dropped != 2<<20-DefaultMaxEntries {
			t.Errorf("got %d records (cap %d), %d dropped", len(b.Records), cap(b.Records), b.Dropped)
		}
		sameDecoding(t, wire, cut(wire, 0x0001_3fff_4000_ffff), DefaultLimits())
	})
	t.Run("huge values are cut to MaxValueBytes and counted", func(t *testing.T) {
		e := realisticEntry(0)
		big := strings.Repeat("a", 1<<20)
		e.Request.Path, e.Request.UserAgent, e.CommonProperties.RouteName = "/"+big, big, big
		e.Request.RequestHeaders["traceparent"] += big
		b := decodeOne(t, mustMarshal(t, httpMessage(identity(big, big), e)), Limits{MaxValueBytes: 100})
		r := b.Records[0]
		for _, v := range [][]byte{r.Path, r.UserAgent, r.RouteName, r.Node, r.LogName} {
			if len(v) != 100 {
				t.Errorf("a value kept %d bytes, want 100", len(v))
			}
		}
		if b.Truncated != 5 || r.HasTrace || !bytes.HasPrefix(r.Path, []byte("/aaa")) {
			t.Errorf("got %d truncated, HasTrace %v", b.Truncated, r.HasTrace)
		}
	})
	t.Run("a huge unread header costs nothing", func(t *testing.T) {
		e := &datav3.HTTPAccessLogEntry{Request: &datav3.HTTPRequestProperties{
			RequestHeaders: map[string]string{"x-big": strings.Repeat("b", 4<<20)},
		}}
		if b := decodeOne(t, mustMarshal(t, httpMessage(nil, e)), DefaultLimits()); b.Truncated != 0 {
			t.Errorf("an unread header was counted as truncated")
		}
	})
}
