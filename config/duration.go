package config

import (
	"time"

	prommodel "github.com/prometheus/common/model"

	"github.com/edgetel/edgetel/api/v1alpha1"
)

// duration parses a policy duration ("300ms", "28d"); the empty string is zero.
// It reports a problem at field when the value cannot be parsed or is out of [min, max].
func (ps *problems) duration(field string, d v1alpha1.Duration, min, max time.Duration) time.Duration {
	if d == "" {
		return 0
	}
	v, err := prommodel.ParseDuration(string(d))
	if err != nil {
		ps.invalid(field, "%q is not a duration (use a number and a unit: ms, s, m, h, d, w)", d)
		return 0
	}
	got := time.Duration(v)
	if got < min || got > max {
		ps.invalid(field, "%s is out of range [%s, %s]", d, prommodel.Duration(min), prommodel.Duration(max))
		return 0
	}
	return got
}
