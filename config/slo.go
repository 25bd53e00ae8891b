package config

import (
	"fmt"
	"math"
	"time"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/model"
)

func (ps *problems) slo(field string, s *v1alpha1.SLOSpec, defaultWindow time.Duration) *model.SLO {
	out := &model.SLO{Window: defaultWindow}
	if s.Window != "" {
		out.Window = ps.duration(field+".window", s.Window, minSLOWindow, maxSLOWindow)
	}
	switch n := len(s.Objectives); {
	case n == 0:
		ps.invalid(field+".objectives", "lists no objective")
	case n > maxObjectives:
		ps.invalid(field+".objectives", "has %d objectives, at most %d are allowed", n, maxObjectives)
	}
	names := map[string]bool{}
	for i, o := range s.Objectives {
		f := fmt.Sprintf("%s.objectives[%d]", field, i)
		if names[o.Name] {
			ps.invalid(f+".name", "%q is used twice", o.Name)
		}
		names[o.Name] = true
		out.Objectives = append(out.Objectives, ps.objective(f, o))
	}
	return out
}

func (ps *problems) objective(field string, o v1alpha1.Objective) model.Objective {
	out := model.Objective{Name: o.Name, Indicator: model.Indicator(o.Indicator), Target: percentToRatio(o.Target)}
	if !objectiveName.MatchString(o.Name) {
		ps.invalid(field+".name", "%q must be lower case letters, digits, - and _, starting with a letter", o.Name)
	}
	if out.Indicator == "" {
		out.Indicator = model.Availability
		if o.Threshold != "" {
			out.Indicator = model.Latency
		}
	}
	if o.Target <= 0 || o.Target >= 100 || o.Target != o.Target {
		ps.invalid(field+".target", "%v must be a percentage above 0 and below 100, e.g. 99.9", o.Target)
	}
	switch out.Indicator {
	case model.Availability:
		if o.Threshold != "" {
			ps.invalid(field+".threshold", "applies to latency objectives only")
		}
	case model.Latency:
		if o.Threshold == "" {
			ps.invalid(field+".threshold", "is required for a latency objective, e.g. 300ms")
		}
		out.Threshold = ps.duration(field+".threshold", o.Threshold, time.Millisecond, time.Hour)
		if o.Target > 0 && o.Target < minLatencyTarget {
			ps.invalid(field+".target", "%v is below %v: a latency objective that lets most requests be slow says nothing", o.Target, minLatencyTarget)
		}
	default:
		ps.invalid(field+".indicator", "%q is not availability or latency", o.Indicator)
	}
	return out
}

// percentToRatio turns 99.9 into 0.999, rounded to 10 significant digits so that the ratio is
// the float a person would write (99.9/100 is 0.9990000000000001 in floating point).
func percentToRatio(p float64) float64 { return math.Round(p*1e8) / 1e10 }
