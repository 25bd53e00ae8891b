package als

import (
	"errors"
	"fmt"

	"github.com/edgetel/edgetel/internal/handoff"
)

// ErrInvalidConfig is wrapped by ReceiverConfig.Validate's errors.
var ErrInvalidConfig = errors.New("als: invalid receiver config")

// ReceiverConfig configures a Receiver. A zero field takes the default given beside it, so
// the zero ReceiverConfig is a valid one.
type ReceiverConfig struct {
	// QueueBatches is how many decoded messages may wait for the consumer (default 4096).
	// When the queue is full, a message's records are dropped and counted: the receiver
	// never makes an Envoy stream wait for the consumer. The default rides out a stall of
	// the sink's core: QueueBytes bounds it first, at about half a second of 200,000
	// entries/s in Envoy's 16 KiB batches (a 256-batch queue, 40 ms of that traffic, dropped
	// entries in a 10-minute soak on a shared core).
	QueueBatches int
	// QueueBytes bounds the memory the queue holds, message bytes plus decoded records
	// (default 64 MiB). A batch that would go over it is dropped and counted, as when the
	// queue is full. It matters for large messages: gRPC accepts up to 4 MiB each by default.
	QueueBytes int64
	// Workers is how many goroutines call the consumer (default 1). With one, calls to
	// ConsumeRecords never overlap; with more, the consumer must be safe for concurrent use.
	Workers int
	// MaxEntriesPerMessage and MaxValueBytes are the decoder's Limits (defaults
	// DefaultMaxEntries and DefaultMaxValueBytes).
	MaxEntriesPerMessage int
	MaxValueBytes        int
}

// Defaults and bounds for ReceiverConfig.
const (
	DefaultQueueBatches = 4096
	DefaultQueueBytes   = 64 << 20
	DefaultWorkers      = 1

	// minValueBytes keeps the fields the join and the trace link need whole: a request ID
	// is 36 bytes, a traceparent 55.
	minValueBytes = 64
)

// Validate reports the first field that is out of range, naming it.
func (c ReceiverConfig) Validate() error {
	if err := c.queue().Check("QueueBatches", queueDefaults); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	switch {
	case c.MaxEntriesPerMessage < 0:
		return fmt.Errorf("%w: MaxEntriesPerMessage is %d, want 0 (default %d) or more",
			ErrInvalidConfig, c.MaxEntriesPerMessage, DefaultMaxEntries)
	case c.MaxValueBytes < 0 || c.MaxValueBytes > 0 && c.MaxValueBytes < minValueBytes:
		return fmt.Errorf("%w: MaxValueBytes is %d, want 0 (default %d) or %d or more",
			ErrInvalidConfig, c.MaxValueBytes, DefaultMaxValueBytes, minValueBytes)
	}
	return nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c ReceiverConfig) withDefaults() ReceiverConfig {
	q := c.queue().WithDefaults(queueDefaults)
	c.QueueBatches, c.QueueBytes, c.Workers = q.Size, q.Cost, q.Workers
	if c.MaxEntriesPerMessage == 0 {
		c.MaxEntriesPerMessage = DefaultMaxEntries
	}
	if c.MaxValueBytes == 0 {
		c.MaxValueBytes = DefaultMaxValueBytes
	}
	return c
}

// queueDefaults are the defaults of the queue settings.
var queueDefaults = handoff.Settings{Size: DefaultQueueBatches, Cost: DefaultQueueBytes, Workers: DefaultWorkers}

func (c ReceiverConfig) queue() handoff.Settings {
	return handoff.Settings{Size: c.QueueBatches, Cost: c.QueueBytes, Workers: c.Workers}
}

func (c ReceiverConfig) limits() Limits {
	return Limits{MaxEntries: c.MaxEntriesPerMessage, MaxValueBytes: c.MaxValueBytes}
}
