// Package config turns policies into the model: it decodes EdgeRoute and EdgeConfig documents
// from files or Kubernetes objects, validates each one, merges them, and builds model.Edge.
//
// The pipeline is a compiler's: Decode (bytes → policies), Compile (policies → model and
// per-policy verdicts). Compile is a pure function; sources (Dir, Kubernetes) only gather
// policies and hand them on.
package config

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/edgetel/edgetel/model"
)

// Sentinel errors; every problem wraps one of them.
var (
	// ErrParse: a document is not valid YAML or not a policy edgetel knows.
	ErrParse = errors.New("cannot parse policy")
	// ErrInvalid: a field has a value edgetel cannot accept.
	ErrInvalid = errors.New("invalid policy")
	// ErrConflict: two policies claim the same thing (host and match, or the global config).
	ErrConflict = errors.New("conflicting policy")
)

// Problem is one thing wrong with one policy, said so that a person can find and fix it:
// the file or object, the field, and what is wrong.
type Problem struct {
	Source model.Source
	// Field is the path of the offending field, e.g. spec.slo.objectives[1].threshold.
	Field string
	// Message says what is wrong and, where it helps, what would be right.
	Message string
	// Err is the sentinel: ErrParse, ErrInvalid or ErrConflict.
	Err error
}

func (p *Problem) Error() string {
	if p.Field == "" {
		return fmt.Sprintf("%s: %s", p.Source, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", p.Source, p.Field, p.Message)
}

// Unwrap returns the sentinel error.
func (p *Problem) Unwrap() error { return p.Err }

// problems collects the problems of one policy.
type problems struct {
	src  model.Source
	list []*Problem
}

func (ps *problems) invalid(field, format string, args ...any) {
	ps.list = append(ps.list, &Problem{Source: ps.src, Field: field, Message: fmt.Sprintf(format, args...), Err: ErrInvalid})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	errs := make([]error, len(ps.list))
	for i, p := range ps.list {
		errs[i] = p
	}
	return errors.Join(errs...)
}

var (
	objectiveName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	listenerName  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)
