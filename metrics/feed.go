package metrics

// feed is one stats stream's hold on the store: the node it speaks for, the gauge levels it
// reported (which leave with it), and scratch space reused message after message. Only the
// stream's goroutine uses it.
type feed struct {
	s      *Store
	node   *node // nil until the stream names a node it may be tracked under
	named  bool  // the stream's identifier has been seen
	gauges map[*clusterState]int64
	// requests accumulates one message's upstream_rq_total - upstream_rq_retry per cluster
	// index; touched lists the indexes set, once each.
	requests []int64
	set      []bool
	touched  []int
}

func (s *Store) newFeed() *feed { return &feed{s: s, gauges: map[*clusterState]int64{}} }

// identify takes the node ID of the stream's first identifier. Envoy sends it only in the
// first message; a later one, or a second stream under the same ID, changes nothing here.
func (f *feed) identify(id []byte) {
	if f.named || id == nil {
		return
	}
	f.named = true
	f.node = f.s.register(id)
}

// apply counts one message's samples and returns how many named a cluster of the model and
// how many one it does not have.
func (f *feed) apply(samples []sample) (applied, unknown int) {
	slot := f.s.slotOf(f.s.now())
	f.s.mu.RLock()
	defer f.s.mu.RUnlock()
	t := f.s.tbl
	if len(f.requests) != len(t.clusters) {
		f.requests, f.set = make([]int64, len(t.clusters)), make([]bool, len(t.clusters))
	}
	for i := range samples {
		sm := &samples[i]
		c := t.byName[string(sm.cluster)]
		if c == nil {
			if !isOwnCluster(sm.cluster) {
				unknown++
			}
			continue
		}
		applied++
		switch sm.stat {
		case statOutlierEjectionsActive:
			f.setGauge(c.st, int64(sm.value))
			continue
		case statUpstreamRequests:
			f.addRequests(c.idx, int64(sm.value))
		case statRetries:
			f.addRequests(c.idx, -int64(sm.value))
		}
		c.st.counters[sm.stat].Add(sm.value)
	}
	f.pair(t, slot)
	return applied, unknown
}

func (f *feed) setGauge(st *clusterState, v int64) {
	st.ejectionsActive.Add(v - f.gauges[st])
	f.gauges[st] = v
}

func (f *feed) addRequests(idx int, n int64) {
	if !f.set[idx] {
		f.set[idx] = true
		f.touched = append(f.touched, idx)
	}
	f.requests[idx] += n
}

// pair adds this message's completeness pairs to the window of each cluster it reported
// requests for: the entries received from the node since its previous flush, and the
// requests of this one (see Store).
func (f *feed) pair(t *table, slot int64) {
	defer func() {
		for _, i := range f.touched {
			f.requests[i], f.set[i] = 0, false
		}
		f.touched = f.touched[:0]
	}()
	n := f.node
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sync(t)
	if !n.primed {
		// The entries counted so far do not start at a flush: start the pairs at this one.
		copy(n.taken, n.entries)
		n.primed = true
		return
	}
	for _, i := range f.touched {
		entries := n.entries[i] - n.taken[i]
		n.taken[i] = n.entries[i]
		st := t.clusters[i].st
		st.mu.Lock()
		st.win.add(slot, entries, f.requests[i])
		st.mu.Unlock()
	}
}

// close withdraws the stream's gauge levels and its hold on the node.
func (f *feed) close() {
	for st, v := range f.gauges {
		st.ejectionsActive.Add(-v)
	}
	clear(f.gauges)
	if f.node != nil {
		f.s.unregister(f.node)
		f.node = nil
	}
}
