package loki

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	lokiclient "github.com/grafana/loki-client-go/loki"
	"github.com/grafana/loki-client-go/pkg/backoff"
	"github.com/grafana/loki-client-go/pkg/urlutil"
)

// ErrInvalidConfig is wrapped by Config.Validate's errors.
var ErrInvalidConfig = errors.New("loki: invalid exporter config")

// PushPath is Loki's push API, appended to Config.URL.
const PushPath = "/loki/api/v1/push"

// Config configures an Exporter. A zero field takes the default given beside it; URL is
// required (the sink leaves the exporter out when it is empty).
type Config struct {
	// URL is Loki's base URL, e.g. http://loki:3100; lines are pushed to URL/loki/api/v1/push.
	URL string
	// TenantID, when set, is sent as X-Scope-OrgID.
	TenantID string

	// NodeGroup is the node_group label of lines whose Envoy node has no cluster
	// (default "edge"); other lines carry their node's cluster (Envoy's --service-cluster).
	// MaxNodeGroups caps the label's values (default 32): lines from further clusters go
	// to node_group="other".
	NodeGroup     string
	MaxNodeGroups int

	// BatchBytes bounds one push (default 1 MiB of lines); BatchWait is the longest a line
	// waits for its batch to fill (default 1s). The Loki client batches.
	BatchBytes int
	BatchWait  time.Duration

	// BufferLines and BufferBytes bound what waits for Loki, the client's batch included
	// (defaults 10000 lines, 8 MiB). When either is full a new line is dropped and counted:
	// Envoy's access-log worker never waits for Loki.
	BufferLines int
	BufferBytes int

	// Timeout bounds one push request (default 10s).
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts of a batch, which doubles
	// from the one to the other with jitter (defaults 250ms, 10s). MaxRetries is how many
	// attempts a batch gets after a 429, a 5xx or a connection error before it is dropped
	// and counted (default 10; about a minute with the default backoff).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	MaxRetries int
}

// Defaults for Config.
const (
	DefaultNodeGroup     = "edge"
	DefaultMaxNodeGroups = 32
	DefaultBatchBytes    = 1 << 20
	DefaultBatchWait     = time.Second
	DefaultBufferLines   = 10000
	DefaultBufferBytes   = 8 << 20
	DefaultTimeout       = 10 * time.Second
	DefaultMinBackoff    = 250 * time.Millisecond
	DefaultMaxBackoff    = 10 * time.Second
	DefaultMaxRetries    = 10
)

// Validate reports the first field that is out of range, naming it.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return fmt.Errorf("%w: URL is empty", ErrInvalidConfig)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: URL %q is not an http(s) URL", ErrInvalidConfig, c.URL)
	case c.BatchBytes < 0, c.BufferLines < 0, c.BufferBytes < 0, c.MaxRetries < 0, c.MaxNodeGroups < 0:
		return fmt.Errorf("%w: BatchBytes %d, BufferLines %d, BufferBytes %d, MaxRetries %d, MaxNodeGroups %d: want 0 (default) or more",
			ErrInvalidConfig, c.BatchBytes, c.BufferLines, c.BufferBytes, c.MaxRetries, c.MaxNodeGroups)
	case c.BatchWait < 0, c.Timeout < 0, c.MinBackoff < 0, c.MaxBackoff < 0:
		return fmt.Errorf("%w: BatchWait %s, Timeout %s, MinBackoff %s, MaxBackoff %s: want 0 (default) or more",
			ErrInvalidConfig, c.BatchWait, c.Timeout, c.MinBackoff, c.MaxBackoff)
	}
	d := c.withDefaults()
	switch {
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
	set(&c.MaxNodeGroups, DefaultMaxNodeGroups)
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

// clientConfig is c, with defaults, as the Loki client's configuration.
func (c Config) clientConfig() (lokiclient.Config, error) {
	var u urlutil.URLValue
	if err := u.Set(strings.TrimRight(c.URL, "/") + PushPath); err != nil {
		return lokiclient.Config{}, fmt.Errorf("%w: URL %q: %w", ErrInvalidConfig, c.URL, err)
	}
	return lokiclient.Config{
		URL:       u,
		BatchWait: c.BatchWait,
		BatchSize: c.BatchBytes,
		BackoffConfig: backoff.BackoffConfig{
			MinBackoff: c.MinBackoff,
			MaxBackoff: c.MaxBackoff,
			MaxRetries: c.MaxRetries,
		},
		Timeout:  c.Timeout,
		TenantID: c.TenantID,
		// Snappy-compressed protobuf, Loki's own push format: the client's JSON is the
		// legacy labels/entries shape.
		EncodeJson: false,
	}, nil
}
