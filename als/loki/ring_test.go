package loki

import "testing"

func TestTheRingKeepsOrderAcrossWrapsAndGrowth(t *testing.T) {
	r := ring{max: 1000}
	next, want := int64(0), int64(0)
	for round := range 50 {
		for range round * 7 % 90 {
			r.push(entry{ts: next})
			next++
		}
		for range round * 5 % 70 {
			if r.len() == 0 {
				break
			}
			if got := r.pop().ts; got != want {
				t.Fatalf("popped %d, want %d", got, want)
			}
			want++
		}
	}
	for r.len() > 0 {
		if got := r.pop().ts; got != want {
			t.Fatalf("popped %d, want %d", got, want)
		}
		want++
	}
	if want != next {
		t.Errorf("popped %d entries, pushed %d", want, next)
	}
	if len(r.buf) > 1000 {
		t.Errorf("the ring grew to %d, past its max", len(r.buf))
	}
}
