package jaeger

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// ErrInvalidConfig is wrapped by Config.Validate's errors.
var ErrInvalidConfig = errors.New("jaeger: invalid config")

// Config configures an Exporter. A zero field takes the default given beside it; an empty
// Endpoint means no export (see Enabled), and the sink makes no Exporter then.
type Config struct {
	// Endpoint is Jaeger's OTLP/gRPC receiver, host:port (Jaeger v2 listens on :4317).
	// The connection is plaintext.
	Endpoint string
	// Window is how long a span waits for the join to emit it (default 35s: the join's
	// default window, 30s, plus its expiry tick and slack). Set it above the join's window.
	Window time.Duration
	// MaxPending bounds the spans waiting for the join (default 50,000); when full, the
	// oldest is exported without the join's attributes.
	MaxPending int
	// QueueSpans bounds the spans waiting for export (default 32,768); when full, a span
	// is dropped and counted.
	QueueSpans int
	// BatchSpans is the most spans in one Export (default 512); BatchTimeout is how long a
	// batch that is not full waits for more (default 200ms).
	BatchSpans   int
	BatchTimeout time.Duration
	// Timeout bounds one Export call (default 10s).
	Timeout time.Duration
	// InitialBackoff and MaxBackoff shape the retry delays (defaults 250ms and 5s; each
	// delay doubles, with ±25% jitter); RetryMaxElapsed is how long one batch is retried
	// before it is dropped (default 5m).
	InitialBackoff  time.Duration
	MaxBackoff      time.Duration
	RetryMaxElapsed time.Duration
}

// Defaults.
const (
	DefaultWindow          = 35 * time.Second
	DefaultMaxPending      = 50_000
	DefaultQueueSpans      = 32_768
	DefaultBatchSpans      = 512
	DefaultBatchTimeout    = 200 * time.Millisecond
	DefaultTimeout         = 10 * time.Second
	DefaultInitialBackoff  = 250 * time.Millisecond
	DefaultMaxBackoff      = 5 * time.Second
	DefaultRetryMaxElapsed = 5 * time.Minute

	maxSpans = 1 << 22
)

// Enabled reports whether c exports anything: whether it names an endpoint.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// Validate reports the first field that is out of range, naming it.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if c.Endpoint != "" {
		if _, _, err := net.SplitHostPort(c.Endpoint); err != nil {
			return bad("Endpoint %q is not host:port: %v", c.Endpoint, err)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"MaxPending", c.MaxPending}, {"QueueSpans", c.QueueSpans}, {"BatchSpans", c.BatchSpans}} {
		if f.v < 0 || f.v > maxSpans {
			return bad("%s is %d, want 0 (default) to %d", f.name, f.v, maxSpans)
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"Window", c.Window}, {"BatchTimeout", c.BatchTimeout}, {"Timeout", c.Timeout},
		{"InitialBackoff", c.InitialBackoff}, {"MaxBackoff", c.MaxBackoff},
		{"RetryMaxElapsed", c.RetryMaxElapsed}} {
		if f.v < 0 {
			return bad("%s is %s, want 0 (default) or more", f.name, f.v)
		}
	}
	if c.InitialBackoff > 0 && c.MaxBackoff > 0 && c.InitialBackoff > c.MaxBackoff {
		return bad("InitialBackoff %s is over MaxBackoff %s", c.InitialBackoff, c.MaxBackoff)
	}
	return nil
}

func (c Config) withDefaults() Config {
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	setInt(&c.MaxPending, DefaultMaxPending)
	setInt(&c.QueueSpans, DefaultQueueSpans)
	setInt(&c.BatchSpans, DefaultBatchSpans)
	setDur(&c.Window, DefaultWindow)
	setDur(&c.BatchTimeout, DefaultBatchTimeout)
	setDur(&c.Timeout, DefaultTimeout)
	setDur(&c.InitialBackoff, DefaultInitialBackoff)
	setDur(&c.MaxBackoff, max(DefaultMaxBackoff, c.InitialBackoff))
	setDur(&c.RetryMaxElapsed, DefaultRetryMaxElapsed)
	return c
}
