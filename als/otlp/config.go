package otlp

import (
	"errors"
	"fmt"

	"github.com/edgetel/edgetel/internal/handoff"
)

// ErrInvalidConfig is wrapped by ReceiverConfig.Validate's errors.
var ErrInvalidConfig = errors.New("otlp logs: invalid receiver config")

// ReceiverConfig configures a Receiver. A zero field takes the default given beside it, so
// the zero ReceiverConfig is a valid one.
type ReceiverConfig struct {
	// QueueRequests is how many accepted requests may wait for the consumer (default 256).
	// When the queue is full, a request's records are dropped and counted, and the sender
	// is told so in the response's partial success: the receiver never makes Envoy wait.
	QueueRequests int
	// QueueBytes bounds the memory the queue holds (default 16 MiB), counted as each
	// request's size on the wire plus its decoded records. A request that would go over it
	// is dropped as when the queue is full.
	QueueBytes int64
	// Workers is how many goroutines call the consumer (default 1). With one, calls to
	// ConsumeRecords never overlap; with more, the consumer must be safe for concurrent use.
	Workers int
	// MaxRecordsPerRequest is the most log records accepted from one request (default
	// 8192); the rest are rejected and counted.
	MaxRecordsPerRequest int
	// MaxValueBytes is the longest attribute value kept (default 4096); a longer one is cut
	// and counted.
	MaxValueBytes int
}

// Defaults and bounds for ReceiverConfig.
const (
	DefaultQueueRequests        = 256
	DefaultQueueBytes           = 16 << 20
	DefaultWorkers              = 1
	DefaultMaxRecordsPerRequest = 8192
	DefaultMaxValueBytes        = 4096

	// minValueBytes keeps a request ID (36 bytes) and a traceparent (55) whole.
	minValueBytes = 64
)

// Validate reports the first field that is out of range, naming it.
func (c ReceiverConfig) Validate() error {
	if err := c.queue().Check("QueueRequests", queueDefaults); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	switch {
	case c.MaxRecordsPerRequest < 0:
		return fmt.Errorf("%w: MaxRecordsPerRequest is %d, want 0 (default %d) or more",
			ErrInvalidConfig, c.MaxRecordsPerRequest, DefaultMaxRecordsPerRequest)
	case c.MaxValueBytes < 0 || c.MaxValueBytes > 0 && c.MaxValueBytes < minValueBytes:
		return fmt.Errorf("%w: MaxValueBytes is %d, want 0 (default %d) or %d or more",
			ErrInvalidConfig, c.MaxValueBytes, DefaultMaxValueBytes, minValueBytes)
	}
	return nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c ReceiverConfig) withDefaults() ReceiverConfig {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	q := c.queue().WithDefaults(queueDefaults)
	c.QueueRequests, c.QueueBytes, c.Workers = q.Size, q.Cost, q.Workers
	set(&c.MaxRecordsPerRequest, DefaultMaxRecordsPerRequest)
	set(&c.MaxValueBytes, DefaultMaxValueBytes)
	return c
}

// queueDefaults are the defaults of the queue settings.
var queueDefaults = handoff.Settings{Size: DefaultQueueRequests, Cost: DefaultQueueBytes, Workers: DefaultWorkers}

func (c ReceiverConfig) queue() handoff.Settings {
	return handoff.Settings{Size: c.QueueRequests, Cost: c.QueueBytes, Workers: c.Workers}
}
