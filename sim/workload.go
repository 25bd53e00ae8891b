package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/edgetel/edgetel/model"
)

// Workload is the traffic a Generator makes.
type Workload struct {
	// Rate is requests per second of the generator's clock (in a Config: of the whole fleet).
	Rate float64
	// Profiles by route name. A route without one gets DefaultProfile; a profile is taken
	// whole, so start from DefaultProfile to change one field.
	Profiles map[string]Profile
	// Unmatched is the share of requests that match no route (Envoy answers 404, flag NR).
	Unmatched float64
	// Incidents scheduled on the generator's clock.
	Incidents []Incident
	// Epoch is where the clock starts and what incident times are relative to. Zero means
	// the wall clock when traffic starts; set it to make start times repeatable.
	Epoch time.Time
}

// Profile is the traffic of one route.
type Profile struct {
	// Share is the route's weight in the rate, relative to the other routes' shares.
	Share float64
	// ErrorRatio is the fraction of requests that fail with a 5xx, from the upstream or from
	// Envoy (connect failure, overflow, timeout, retries exhausted).
	ErrorRatio float64
	// ClientErrorRatio is the fraction answered 4xx by the upstream: good for availability.
	ClientErrorRatio float64
	// Median and Sigma shape the log-normal latency of upstream responses.
	Median time.Duration
	Sigma  float64
}

// Incident makes a route fail and slow down for a while.
type Incident struct {
	// Route is the model name of the route, namespace/name.
	Route string
	// Start is the offset from the epoch; the incident lasts Duration.
	Start    time.Duration
	Duration time.Duration
	// ErrorRatio replaces the route's error ratio during the incident.
	ErrorRatio float64
	// LatencyFactor multiplies the route's median latency; zero leaves it as it is.
	LatencyFactor float64
}

// active reports whether the incident is under way at offset off from the epoch.
func (in Incident) active(off time.Duration) bool {
	return off >= in.Start && off < in.Start+in.Duration
}

// DemoIncident is the demo's incident: from minute 2, for 5 minutes, shop/checkout answers
// 5xx to a fifth of its requests and is 4× slower, so that both its burn rates jump.
func DemoIncident() Incident {
	return Incident{Route: "shop/checkout", Start: 2 * time.Minute, Duration: 5 * time.Minute,
		ErrorRatio: 0.2, LatencyFactor: 4}
}

const (
	// steadyBudgetShare is how much of each error budget a default profile spends: the SLO
	// is met in steady state, yet every counter and burn rate moves.
	steadyBudgetShare = 0.25
	defaultSigma      = 0.5
	// defaultErrorRatio and defaultMedian serve routes without the matching objective.
	defaultErrorRatio       = 0.001
	defaultClientErrorRatio = 0.02
	defaultMedian           = 50 * time.Millisecond
)

// DefaultProfile is a profile under which the route meets its objectives with room to
// spare: errors spend a quarter of the availability budget, and the latency median sits so
// that a quarter of each latency objective's budget lies above its threshold.
func DefaultProfile(r model.Route) Profile {
	p := Profile{Share: 1, ErrorRatio: defaultErrorRatio, ClientErrorRatio: defaultClientErrorRatio,
		Median: defaultMedian, Sigma: defaultSigma}
	if r.SLO == nil {
		return p
	}
	median := time.Duration(math.MaxInt64)
	for _, o := range r.SLO.Objectives {
		bad := o.ErrorBudget() * steadyBudgetShare
		if bad <= 0 || bad >= 1 {
			continue
		}
		switch o.Indicator {
		case model.Availability:
			p.ErrorRatio = bad
		case model.Latency:
			// P(d > threshold) = bad for ln d ~ N(ln median, sigma²).
			z := math.Sqrt2 * math.Erfinv(1-2*bad)
			median = min(median, time.Duration(float64(o.Threshold)*math.Exp(-defaultSigma*z)))
		}
	}
	if median != time.Duration(math.MaxInt64) {
		p.Median = median
	}
	return p
}

// ErrInvalidWorkload is wrapped by every problem Workload.Validate finds.
var ErrInvalidWorkload = errors.New("invalid workload")

// Validate checks the workload against the model whose routes it drives.
func (w Workload) Validate(edge *model.Edge) error {
	if edge == nil {
		return fmt.Errorf("%w: no model", ErrInvalidWorkload)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidWorkload}, args...)...))
	}
	if !(w.Rate > 0) || math.IsInf(w.Rate, 0) {
		bad("Rate is %v requests/s, want more than 0", w.Rate)
	}
	if !unit(w.Unmatched) {
		bad("Unmatched is %v, want a share in [0, 1]", w.Unmatched)
	}
	total := w.Unmatched
	for name, p := range w.Profiles {
		if edge.Route(name) == nil {
			bad("Profiles[%q]: the model has no such route", name)
			continue
		}
		errs = append(errs, p.validate("Profiles["+name+"]"))
		total += p.Share
	}
	for _, r := range edge.Routes {
		if _, ok := w.Profiles[r.Name]; !ok {
			total += 1 // DefaultProfile's share
		}
	}
	if !(total > 0) {
		bad("every share is zero: there is no traffic to make")
	}
	for i, in := range w.Incidents {
		errs = append(errs, in.validate(fmt.Sprintf("Incidents[%d]", i), edge))
	}
	return errors.Join(errs...)
}

func (p Profile) validate(field string) error {
	var errs []error
	if !(p.Share >= 0) || math.IsInf(p.Share, 0) {
		errs = append(errs, fmt.Errorf("%w: %s.Share is %v, want 0 or more", ErrInvalidWorkload, field, p.Share))
	}
	if !unit(p.ErrorRatio) || !unit(p.ClientErrorRatio) || p.ErrorRatio+p.ClientErrorRatio > 1 {
		errs = append(errs, fmt.Errorf("%w: %s: ErrorRatio %v and ClientErrorRatio %v must be shares summing to at most 1",
			ErrInvalidWorkload, field, p.ErrorRatio, p.ClientErrorRatio))
	}
	if p.Median <= 0 || !(p.Sigma >= 0) || p.Sigma > 5 {
		errs = append(errs, fmt.Errorf("%w: %s: Median %v must be positive and Sigma %v in [0, 5]",
			ErrInvalidWorkload, field, p.Median, p.Sigma))
	}
	return errors.Join(errs...)
}

func (in Incident) validate(field string, edge *model.Edge) error {
	var errs []error
	if edge.Route(in.Route) == nil {
		errs = append(errs, fmt.Errorf("%w: %s.Route: the model has no route %q", ErrInvalidWorkload, field, in.Route))
	}
	if in.Start < 0 || in.Duration <= 0 {
		errs = append(errs, fmt.Errorf("%w: %s: Start %v must be 0 or more and Duration %v positive",
			ErrInvalidWorkload, field, in.Start, in.Duration))
	}
	if !unit(in.ErrorRatio) || !(in.LatencyFactor >= 0) || math.IsInf(in.LatencyFactor, 0) {
		errs = append(errs, fmt.Errorf("%w: %s: ErrorRatio %v must be a share and LatencyFactor %v 0 or more",
			ErrInvalidWorkload, field, in.ErrorRatio, in.LatencyFactor))
	}
	return errors.Join(errs...)
}

// unit reports whether f is in [0, 1]; NaN is not.
func unit(f float64) bool { return f >= 0 && f <= 1 }
