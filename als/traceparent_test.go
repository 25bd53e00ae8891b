package als

import (
	"bytes"
	"testing"
)

// TestATraceparentIsReadAsTheSpecificationSays puts every byte value at every position
// of a valid traceparent, and a single non-zero digit at every position of all-zero IDs,
// and holds Record.SetTraceparent (words of digits tested at once) to the oracle's
// reading of the W3C text.
func TestATraceparentIsReadAsTheSpecificationSays(t *testing.T) {
	check := func(v []byte) {
		t.Helper()
		var r Record
		r.SetTraceparent(v)
		trace, span := r.Trace()
		wt, ws, wsampled, wok := expectTraceparent(string(v))
		if r.HasTrace != wok || r.Sampled != wsampled || trace != wt || span != ws {
			t.Fatalf("SetTraceparent(%q): IDs %x %x, Sampled %v, HasTrace %v; want %x %x %v %v",
				v, trace, span, r.Sampled, r.HasTrace, wt, ws, wsampled, wok)
		}
	}
	for _, base := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later",
	} {
		// The fields, and the dash after them; what a later version appends is its own.
		for pos := range min(len(base), traceparentSize+1) {
			for c := range 256 {
				v := []byte(base)
				v[pos] = byte(c)
				check(v)
			}
		}
	}
	zeros := []byte("00-00000000000000000000000000000000-0000000000000000-01")
	check(zeros)
	for pos := 3; pos < 52; pos++ {
		for _, c := range []byte("19af") {
			v := bytes.Clone(zeros)
			v[pos] = c
			check(v)
			copy(v[3:35], "4bf92f3577b34da6a3ce929d0e0e4736") // a valid trace: the span decides
			check(v)
		}
	}
}

func TestARecordDecodesItsTraceparentWhenAsked(t *testing.T) {
	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	wantTrace, wantSpan, _, _ := expectTraceparent(valid)
	t.Run("a valid traceparent gives its IDs and flag", func(t *testing.T) {
		var r Record
		r.SetTraceparent([]byte(valid))
		if trace, span := r.Trace(); !r.HasTrace || !r.Sampled || trace != wantTrace || span != wantSpan {
			t.Errorf("HasTrace %v, Sampled %v, IDs %x %x", r.HasTrace, r.Sampled, trace, span)
		}
	})
	t.Run("a malformed traceparent leaves no trace, even over one set before", func(t *testing.T) {
		var r Record
		r.SetTrace(wantTrace, wantSpan, true)
		r.SetTraceparent([]byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"))
		if trace, span := r.Trace(); r.HasTrace || r.Sampled || trace != [16]byte{} || span != [8]byte{} {
			t.Errorf("HasTrace %v, Sampled %v, IDs %x %x", r.HasTrace, r.Sampled, trace, span)
		}
	})
	t.Run("a clone keeps the IDs after the message's bytes are reused", func(t *testing.T) {
		msg := []byte(valid)
		var r Record
		r.SetTraceparent(msg)
		c := r.Clone()
		copy(msg, "00-11111111111111111111111111111111-2222222222222222-00")
		if trace, span := c.Trace(); !c.HasTrace || !c.Sampled || trace != wantTrace || span != wantSpan {
			t.Errorf("clone: HasTrace %v, Sampled %v, IDs %x %x", c.HasTrace, c.Sampled, trace, span)
		}
	})
}
