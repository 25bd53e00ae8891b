package loki

// ring is the buffer's queue of entries, oldest first. It grows by doubling up to max
// entries and never shrinks: the buffer's bound is its memory once Loki has been slow.
type ring struct {
	buf     []entry
	head, n int
	max     int
}

func (r *ring) len() int { return r.n }

// push appends e; the caller has checked that fewer than max entries are queued.
func (r *ring) push(e entry) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
}

// peek returns the i-th oldest entry.
func (r *ring) peek(i int) *entry { return &r.buf[(r.head+i)%len(r.buf)] }

// pop removes the oldest entry and returns it.
func (r *ring) pop() entry {
	e := r.buf[r.head]
	r.buf[r.head] = entry{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return e
}

func (r *ring) grow() {
	size := min(max(2*len(r.buf), 64), r.max)
	if size <= len(r.buf) {
		size = len(r.buf) + 1 // only if max is below what was queued: never
	}
	buf := make([]entry, size)
	for i := 0; i < r.n; i++ {
		buf[i] = *r.peek(i)
	}
	r.buf, r.head = buf, 0
}
