package sim

import (
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
)

// runRealTime sends each request when the wall clock reaches its start time, and flushes
// every FlushInterval as Envoy's timer does, until stop is closed; the stats and span timers
// run on the wall clock too. A node that falls behind (a slow sink blocks Send) catches up
// by sending what is due at once.
func (n *node) runRealTime(stop <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	e := new(accesslogv3.HTTPAccessLogEntry)
	r := n.gen.Next(e)
	flushDue := time.Now().Add(n.cfg.FlushInterval)
	n.startSignals(time.Now())
	for {
		select {
		case <-stop:
			return
		default:
		}
		now := time.Now()
		if !now.Before(flushDue) {
			n.flush()
			flushDue = now.Add(n.cfg.FlushInterval)
		}
		n.tickSignals(now)
		if !now.Before(r.Start) {
			n.add(e, r)
			e = new(accesslogv3.HTTPAccessLogEntry)
			r = n.gen.Next(e)
			continue
		}
		wake := r.Start
		if flushDue.Before(wake) {
			wake = flushDue
		}
		if due := n.nextSignal(); !due.IsZero() && due.Before(wake) {
			wake = due
		}
		timer.Reset(wake.Sub(now))
		select {
		case <-stop:
			return
		case <-timer.C:
		}
	}
}

// runVirtual sends quota requests (until stop when quota < 0) as fast as the stream takes
// them. The flush interval runs on the generator's clock, so a batch spans what it would
// span in real time: the buffer flushes before a request that starts after the timer would
// have fired. The stats and span timers run on the same clock.
func (n *node) runVirtual(stop <-chan struct{}, quota int) {
	interval := n.cfg.FlushInterval
	flushDue := n.gen.Now().Add(interval)
	n.virtual = true
	n.startSignals(n.gen.Now())
	for i := 0; quota < 0 || i < quota; i++ {
		select {
		case <-stop:
			return
		default:
		}
		e := new(accesslogv3.HTTPAccessLogEntry)
		r := n.gen.Next(e)
		if !r.Start.Before(flushDue) {
			n.flush()
			flushDue = nextFlush(flushDue, r.Start, interval)
		}
		n.tickSignals(r.Start)
		n.add(e, r)
	}
}

// nextFlush is when a periodic flush timer that was due at due fires next after t.
func nextFlush(due, t time.Time, interval time.Duration) time.Time {
	return due.Add((t.Sub(due)/interval + 1) * interval)
}
