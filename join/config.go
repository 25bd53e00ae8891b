package join

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is wrapped by Config.Validate's errors.
var ErrInvalidConfig = errors.New("join: invalid config")

// Config configures a Join. A zero field takes the default given beside it, so the zero
// Config is a valid one.
type Config struct {
	// Window is how long a record or span waits for its partner (default 30s). Envoy
	// flushes access logs every second and spans every 5s or 5 spans, so partners
	// normally arrive seconds apart. An entry goes alone between Window and Window plus
	// one second after it arrived.
	Window time.Duration
	// MaxPending bounds the records and spans waiting (default 100,000). The table is
	// allocated whole when the join is made: about 106 bytes per entry (see the package
	// comment). When it is full, the oldest entry goes alone, counted as evicted.
	MaxPending int
	// Tick is how often expired entries are looked for when no traffic comes (default
	// 1s); traffic looks for them on every batch.
	Tick time.Duration
	// QueueItems is how many emitted items may wait for the consumer (default 16,384).
	// They wait in a ring allocated whole when the join is made, 280 bytes an item
	// (4.6 MB by default). When it is full, an item is dropped and counted. A join that
	// emits to Discard makes no items and allocates no ring.
	QueueItems int
}

// Defaults and bounds for Config.
const (
	DefaultWindow     = 30 * time.Second
	DefaultMaxPending = 100_000
	DefaultTick       = time.Second
	DefaultQueueItems = 16384

	maxWindow     = time.Hour
	maxPending    = 1 << 24
	minTick       = time.Millisecond
	maxQueueItems = 1 << 20
)

// Validate reports the first field that is out of range, naming it.
func (c Config) Validate() error {
	switch {
	case c.Window < 0 || c.Window > 0 && c.Window < time.Second || c.Window > maxWindow:
		return fmt.Errorf("%w: Window is %s, want 0 (default %s) or 1s to %s",
			ErrInvalidConfig, c.Window, DefaultWindow, maxWindow)
	case c.MaxPending < 0 || c.MaxPending > maxPending:
		return fmt.Errorf("%w: MaxPending is %d, want 0 (default %d) to %d",
			ErrInvalidConfig, c.MaxPending, DefaultMaxPending, maxPending)
	case c.Tick < 0 || c.Tick > 0 && c.Tick < minTick || c.Tick > maxWindow:
		return fmt.Errorf("%w: Tick is %s, want 0 (default %s) or %s to %s",
			ErrInvalidConfig, c.Tick, DefaultTick, minTick, maxWindow)
	case c.QueueItems < 0 || c.QueueItems > maxQueueItems:
		return fmt.Errorf("%w: QueueItems is %d, want 0 (default %d) to %d",
			ErrInvalidConfig, c.QueueItems, DefaultQueueItems, maxQueueItems)
	}
	return nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.QueueItems == 0 {
		c.QueueItems = DefaultQueueItems
	}
	return c
}
