package metrics

// window is a ring of fixed time slots holding the completeness pairs that arrived in each
// (see Store): entries the sink received from a node between two of its flushes, and the
// requests the later flush reported. Slots are 10s, aligned to the Unix epoch, and numbered
// by Unix time / 10s; a slot is reused once it falls out of the window.
type window struct {
	slots []slot
}

type slot struct {
	id       int64
	entries  uint64
	requests int64 // upstream_rq_total - upstream_rq_retry, which one message may leave negative
}

func newWindow(n int64) window { return window{slots: make([]slot, n)} }

// add counts a pair in slot id.
func (w *window) add(id int64, entries uint64, requests int64) {
	s := &w.slots[w.index(id)]
	if s.id != id {
		*s = slot{id: id}
	}
	s.entries += entries
	s.requests += requests
}

// sum adds up the slots of the window that ends with slot cur: the last len(slots) slots,
// cur included, which covers the window less up to one slot.
func (w *window) sum(cur int64) (entries uint64, requests int64) {
	n := int64(len(w.slots))
	for i := range w.slots {
		if s := &w.slots[i]; s.id > cur-n && s.id <= cur {
			entries += s.entries
			requests += s.requests
		}
	}
	return entries, requests
}

func (w *window) index(id int64) int {
	n := int64(len(w.slots))
	return int((id%n + n) % n)
}
