package testenv

import (
	"testing"
	"time"
)

// Eventually calls f until it returns nil, and fails t with what and f's last error when
// timeout passes first. It polls quickly at first (a condition about to hold costs little
// wall time), then backs off to twice a second.
func Eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := 25 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 500*time.Millisecond)
	}
}
