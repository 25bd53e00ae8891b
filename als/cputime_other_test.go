//go:build !unix

package als

import "time"

// cpuTime is unknown here; benchmarks then report no per-CPU-second figure.
func cpuTime() time.Duration { return 0 }
