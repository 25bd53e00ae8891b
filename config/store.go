package config

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/edgetel/edgetel/model"
)

// ErrRefused: a consumer of the model (the xDS translator) refused a compiled model.
var ErrRefused = errors.New("compiled model refused")

// Applier takes a new model into use, or refuses it with an error. The xDS server refuses a
// model whose Envoy configuration does not validate.
type Applier interface {
	Apply(e *model.Edge) error
}

// ApplierFunc adapts a function to an Applier.
type ApplierFunc func(e *model.Edge) error

// Apply calls f(e).
func (f ApplierFunc) Apply(e *model.Edge) error { return f(e) }

var _ Applier = ApplierFunc(nil)

// State is the configuration in force and what was said about every policy.
type State struct {
	// Edge is the model in force: the last one every applier took.
	Edge *model.Edge
	// Verdicts are Compile's word on every policy of the last update.
	Verdicts []Verdict
	// SourceErr holds problems reading the sources (a file that does not parse).
	SourceErr error
	// RefusedErr is set when an applier refused the last compiled model; Edge is then the
	// model in force before it.
	RefusedErr error
	// Generation counts the models taken into use; Updated is when the last update ran.
	Generation uint64
	Updated    time.Time
}

// Store compiles policy updates and hands each model to its appliers in order — validating
// ones first — and keeps the last good model when any refuses.
type Store struct {
	appliers []Applier

	mu       sync.Mutex
	lastGood map[string]Policy
	state    State
	updates  uint64
	refused  uint64
}

// NewStore returns a store that applies models with appliers, in order.
func NewStore(appliers ...Applier) *Store {
	return &Store{appliers: appliers}
}

// Update compiles the policies the sources have now (sourceErr are the problems reading
// them) and applies the model. It returns the resulting state.
func (s *Store) Update(policies []Policy, sourceErr error) State {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	out := Compile(Input{Policies: policies, LastGood: s.lastGood})
	next := State{Edge: out.Edge, Verdicts: out.Verdicts, SourceErr: sourceErr,
		Generation: s.state.Generation + 1, Updated: time.Now()}
	for _, a := range s.appliers {
		if err := a.Apply(out.Edge); err != nil {
			s.refused++
			next.Edge, next.Generation = s.state.Edge, s.state.Generation
			next.RefusedErr = fmt.Errorf("%w: %w", ErrRefused, err)
			s.state = next
			return next
		}
	}
	s.lastGood = out.LastGood
	s.state = next
	return next
}

// State returns the state in force.
func (s *Store) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Counts returns how many updates ran and how many compiled models were refused.
func (s *Store) Counts() (updates, refused uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates, s.refused
}
