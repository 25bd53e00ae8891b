package loki

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// ErrInvalidConfig is wrapped by Config.Validate's errors.
var ErrInvalidConfig = errors.New("loki: invalid exporter config")

// Config configures an Exporter. A zero field takes the default given beside it; URL is
// required (the sink leaves the exporter out when it is empty).
type Config struct {
	// URL is Loki's base URL, e.g. http://loki:3100; lines are pushed to
	// URL/loki/api/v1/push as JSON.
	URL string
	// TenantID, when set, is sent as X-Scope-OrgID.
	TenantID string
	// NodeGroup is the node_group label (default "edge"): the Envoy node cluster of the
	// fleet this sink serves. The access-log record carries the node ID, not its cluster.
	NodeGroup string

	// BatchLines and BatchBytes bound one push (defaults 1000 lines, 1 MiB of lines);
	// BatchWait is the longest a line waits for its batch to fill (default 1s).
	BatchLines int
	BatchBytes int
	BatchWait  time.Duration

	// BufferLines and BufferBytes bound what waits for Loki, the batch being sent included
	// (defaults 10000 lines, 8 MiB). When either is full a new line is dropped and counted:
	// Envoy's access-log worker never waits for Loki.
	BufferLines int
	BufferBytes int

	// Uncompressed sends push bodies as plain JSON; by default they are gzipped (fast
	// level), which Loki's push API accepts with Content-Encoding: gzip.
	Uncompressed bool

	// Timeout bounds one push request (default 10s).
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries of a batch, which doubles
	// from the one to the other, less up to half of it at random (defaults 250ms, 10s). MaxRetries is how often a batch is
	// retried after a 429, a 5xx or a connection error before it is dropped and counted
	// (default 10; about a minute with the default backoff).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	MaxRetries int
}

// Defaults for Config.
const (
	DefaultNodeGroup   = "edge"
	DefaultBatchLines  = 1000
	DefaultBatchBytes  = 1 << 20
	DefaultBatchWait   = time.Second
	DefaultBufferLines = 10000
	DefaultBufferBytes = 8 << 20
	DefaultTimeout     = 10 * time.Second
	DefaultMinBackoff  = 250 * time.Millisecond
	DefaultMaxBackoff  = 10 * time.Second
	DefaultMaxRetries  = 10
)

// Validate reports the first field that is out of range, naming it.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return fmt.Errorf("%w: URL is empty", ErrInvalidConfig)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: URL %q is not an http(s) URL", ErrInvalidConfig, c.URL)
	case c.BatchLines < 0, c.BatchBytes < 0, c.BufferLines < 0, c.BufferBytes < 0, c.MaxRetries < 0:
		return fmt.Errorf("%w: BatchLines %d, BatchBytes %d, BufferLines %d, BufferBytes %d, MaxRetries %d: want 0 (default) or more",
			ErrInvalidConfig, c.BatchLines, c.BatchBytes, c.BufferLines, c.BufferBytes, c.MaxRetries)
	case c.BatchWait < 0, c.Timeout < 0, c.MinBackoff < 0, c.MaxBackoff < 0:
		return fmt.Errorf("%w: BatchWait %s, Timeout %s, MinBackoff %s, MaxBackoff %s: want 0 (default) or more",
			ErrInvalidConfig, c.BatchWait, c.Timeout, c.MinBackoff, c.MaxBackoff)
	}
	d := c.withDefaults()
	switch {
	case d.BufferLines < d.BatchLines:
		return fmt.Errorf("%w: BufferLines %d is less than BatchLines %d", ErrInvalidConfig, d.BufferLines, d.BatchLines)
	case d.BufferBytes < d.BatchBytes:
		return fmt.Errorf("%w: BufferBytes %d is less than BatchBytes %d", ErrInvalidConfig, d.BufferBytes, d.BatchBytes)
	case d.MaxBackoff < d.MinBackoff:
		return fmt.Errorf("%w: MaxBackoff %s is less than MinBackoff %s", ErrInvalidConfig, d.MaxBackoff, d.MinBackoff)
	}
	return nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.NodeGroup == "" {
		c.NodeGroup = DefaultNodeGroup
	}
	set(&c.BatchLines, DefaultBatchLines)
	set(&c.BatchBytes, DefaultBatchBytes)
	set(&c.BufferLines, DefaultBufferLines)
	set(&c.BufferBytes, DefaultBufferBytes)
	set(&c.MaxRetries, DefaultMaxRetries)
	setDur(&c.BatchWait, DefaultBatchWait)
	setDur(&c.Timeout, DefaultTimeout)
	setDur(&c.MinBackoff, DefaultMinBackoff)
	setDur(&c.MaxBackoff, DefaultMaxBackoff)
	return c
}
