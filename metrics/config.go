package metrics

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is wrapped by Config.Validate's errors.
var ErrInvalidConfig = errors.New("metrics: invalid config")

// Config configures the stats side of the sink: what one metrics-service message may cost
// the Receiver, and the window of the Store's completeness ratio. A zero field takes the
// default given beside it, so the zero Config is a valid one.
type Config struct {
	// MaxFamiliesPerMessage bounds the MetricFamily entries read from one message (default
	// 100,000). Envoy sends one family per stat it has used, so a large Envoy sends tens of
	// thousands per flush; families past the bound are skipped and counted.
	MaxFamiliesPerMessage int
	// MaxMetricsPerFamily bounds the metrics read from one kept family (default 1,024).
	// Envoy sends one; another sender may group a stat's clusters in one family.
	MaxMetricsPerFamily int
	// MaxLabelsPerMetric and MaxLabelBytes bound a kept metric's labels (defaults 64 and
	// 256 bytes, for a name or a value). A metric past either is rejected and counted: no
	// cluster of the model has a name that long, and Envoy sends a handful of labels.
	MaxLabelsPerMetric int
	MaxLabelBytes      int
	// CompletenessWindow is how far back the completeness ratio looks (default 5m, between
	// 1m and 1h, a whole number of 10s slots). See Store.
	CompletenessWindow time.Duration
}

// Defaults and bounds for Config.
const (
	DefaultMaxFamiliesPerMessage = 100_000
	DefaultMaxMetricsPerFamily   = 1024
	DefaultMaxLabelsPerMetric    = 64
	DefaultMaxLabelBytes         = 256
	DefaultCompletenessWindow    = 5 * time.Minute

	// slotWidth is the resolution of the completeness window: Envoy's default
	// stats_flush_interval, and edgetel's bootstrap's.
	slotWidth     = 10 * time.Second
	minWindow     = time.Minute
	maxWindow     = time.Hour
	minLabelBytes = 64 // a cluster name from the model fits
	// maxNodeIDBytes bounds the node ID a stream may name. Envoy's are short (Istio's, the
	// longest in common use, are ~100 bytes); a longer one is not tracked (see Store).
	maxNodeIDBytes = 1024
)

// Validate reports the first field that is out of range, naming it.
func (c Config) Validate() error {
	w := c.CompletenessWindow
	switch {
	case c.MaxFamiliesPerMessage < 0:
		return fmt.Errorf("%w: MaxFamiliesPerMessage is %d, want 0 (default %d) or more",
			ErrInvalidConfig, c.MaxFamiliesPerMessage, DefaultMaxFamiliesPerMessage)
	case c.MaxMetricsPerFamily < 0:
		return fmt.Errorf("%w: MaxMetricsPerFamily is %d, want 0 (default %d) or more",
			ErrInvalidConfig, c.MaxMetricsPerFamily, DefaultMaxMetricsPerFamily)
	case c.MaxLabelsPerMetric < 0:
		return fmt.Errorf("%w: MaxLabelsPerMetric is %d, want 0 (default %d) or more",
			ErrInvalidConfig, c.MaxLabelsPerMetric, DefaultMaxLabelsPerMetric)
	case c.MaxLabelBytes < 0 || c.MaxLabelBytes > 0 && c.MaxLabelBytes < minLabelBytes:
		return fmt.Errorf("%w: MaxLabelBytes is %d, want 0 (default %d) or %d or more",
			ErrInvalidConfig, c.MaxLabelBytes, DefaultMaxLabelBytes, minLabelBytes)
	case w != 0 && (w < minWindow || w > maxWindow || w%slotWidth != 0):
		return fmt.Errorf("%w: CompletenessWindow is %s, want 0 (default %s) or %s to %s in steps of %s",
			ErrInvalidConfig, w, DefaultCompletenessWindow, minWindow, maxWindow, slotWidth)
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
	set(&c.MaxFamiliesPerMessage, DefaultMaxFamiliesPerMessage)
	set(&c.MaxMetricsPerFamily, DefaultMaxMetricsPerFamily)
	set(&c.MaxLabelsPerMetric, DefaultMaxLabelsPerMetric)
	set(&c.MaxLabelBytes, DefaultMaxLabelBytes)
	if c.CompletenessWindow == 0 {
		c.CompletenessWindow = DefaultCompletenessWindow
	}
	return c
}
