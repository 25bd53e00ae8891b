package config

import (
	"fmt"
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
	out := model.Objective{Name: o.Name, Indicator: model.Indicator(o.Indicator), Target: o.Target / 100}
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
