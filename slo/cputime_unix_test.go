//go:build unix

package slo

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used: on a machine shared with other builds, the
// benchmarks report records per CPU-second beside records per wall-clock second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
