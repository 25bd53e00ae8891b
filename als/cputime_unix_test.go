//go:build unix

package als

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used. Benchmarks report throughput per CPU
// second beside throughput per wall second, so that the figure means something on a
// machine shared with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
