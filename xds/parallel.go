package xds

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// routeChunk is the least work worth a goroutine when an item is a route or a message of
// that size: a few hundred. An api listener holds tens of routes, so a few of them are.
const (
	routeChunk = 256
	hostChunk  = 8
)

// forEach calls f(i) for every i in [0, n), on every CPU when there are at least chunk
// items. f must be safe to call concurrently for different i. At 10,000 routes the
// route-sized steps of a full publish (translation, validation, hashing) each take tens of
// milliseconds on one CPU: spread, the first publish stays within its budget
// (server_bench_test.go).
//
// The caller works too, and the workers take items a few at a time from a shared counter
// rather than a fixed share each: on a busy machine a worker's thread may wait for a CPU,
// and the others then do its part instead of waiting for it.
func forEach(n, chunk int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/chunk+1)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	grab := max(1, chunk/8)
	var next atomic.Int64
	work := func() {
		for {
			start := int(next.Add(int64(grab))) - grab
			if start >= n {
				return
			}
			for i := start; i < min(start+grab, n); i++ {
				f(i)
			}
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
