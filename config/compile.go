package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/edgetel/edgetel/model"
)

// Input is what Compile reads: the policies as the sources have them now and the policies
// the previous compile accepted.
type Input struct {
	Policies []Policy
	// LastGood is the previous Output.LastGood: for a policy that is now rejected, its last
	// accepted version stays in force. Nil on the first compile.
	LastGood map[string]Policy
}

// Verdict is what Compile says about one policy.
type Verdict struct {
	Source   model.Source
	Accepted bool
	// Problems is why the policy was rejected; nil when accepted.
	Problems error
	// Stale is true when a rejected policy's last accepted version stays in force.
	Stale bool
}

// Output is the model built from the accepted policies, and a verdict on every policy.
type Output struct {
	Edge *model.Edge
	// Verdicts, one per input policy, sorted by policy key then source.
	Verdicts []Verdict
	// LastGood is the set of policies in force, to pass as the next Input.LastGood.
	LastGood map[string]Policy
}

// Err joins the problems of every rejected policy; nil when all were accepted.
func (o *Output) Err() error {
	var errs []error
	for _, v := range o.Verdicts {
		if v.Problems != nil {
			errs = append(errs, v.Problems)
		}
	}
	return errors.Join(errs...)
}

// Compile validates every policy, merges the accepted ones into one model and says what it
// did with each. A policy that is invalid or conflicts with one already in force is rejected
// and its last accepted version, if any, stays in force: one team's mistake never takes down
// another team's route, nor its own last good one. Compile is a pure function.
func Compile(in Input) *Output {
	c := compiler{lastGood: in.LastGood, inForce: map[string]Policy{}}
	policies := slices.Clone(in.Policies)
	slices.SortStableFunc(policies, func(a, b Policy) int {
		return cmp.Or(cmp.Compare(a.Key(), b.Key()), cmp.Compare(a.Source.File, b.Source.File), cmp.Compare(a.Source.Doc, b.Source.Doc))
	})
	var configs, routes []Policy
	seen := map[string]model.Source{}
	for _, p := range policies {
		if first, dup := seen[p.Key()]; dup {
			c.reject(p, &Problem{Source: p.Source, Field: "metadata.name", Err: ErrConflict,
				Message: fmt.Sprintf("%s is defined twice; the first is at %s", p.Key(), first)}, false)
			continue
		}
		seen[p.Key()] = p.Source
		if p.Config != nil {
			configs = append(configs, p)
		} else {
			routes = append(routes, p)
		}
	}
	edge := c.global(configs)
	edge.Routes = c.routes(routes, edge)
	slices.SortFunc(c.verdicts, func(a, b Verdict) int {
		return cmp.Or(cmp.Compare(key(a.Source), key(b.Source)), cmp.Compare(a.Source.File, b.Source.File), cmp.Compare(a.Source.Doc, b.Source.Doc))
	})
	return &Output{Edge: &edge, Verdicts: c.verdicts, LastGood: c.inForce}
}

func key(s model.Source) string { return s.Kind + "/" + s.Namespace + "/" + s.Name }

type compiler struct {
	lastGood map[string]Policy
	inForce  map[string]Policy
	verdicts []Verdict
}

func (c *compiler) accept(p Policy) {
	c.inForce[p.Key()] = p
	c.verdicts = append(c.verdicts, Verdict{Source: p.Source, Accepted: true})
}

// reject records the problems of p. With fallback, p's last accepted version is returned to
// be tried in its place.
func (c *compiler) reject(p Policy, problems error, fallback bool) (Policy, bool) {
	last, ok := c.lastGood[p.Key()]
	ok = ok && fallback
	c.verdicts = append(c.verdicts, Verdict{Source: p.Source, Problems: problems, Stale: ok})
	return last, ok
}

// global picks the one EdgeConfig: the one in force before if it is still there, else the
// first by name; any other is a conflict.
func (c *compiler) global(configs []Policy) model.Edge {
	if len(configs) == 0 {
		e, _ := buildGlobal(model.Source{}, nil)
		return e
	}
	slices.SortStableFunc(configs, func(a, b Policy) int {
		_, aIn := c.lastGood[a.Key()]
		_, bIn := c.lastGood[b.Key()]
		return -cmp.Compare(btoi(aIn), btoi(bIn))
	})
	for _, p := range configs[1:] {
		c.reject(p, &Problem{Source: p.Source, Field: "metadata.name", Err: ErrConflict,
			Message: fmt.Sprintf("there is one EdgeConfig per edge and %s is in force", configs[0].Source)}, false)
	}
	p := configs[0]
	e, err := buildGlobal(p.Source, p.Config)
	if err == nil {
		c.accept(p)
		return e
	}
	if last, ok := c.reject(p, err, true); ok {
		if e, err := buildGlobal(last.Source, last.Config); err == nil {
			c.inForce[last.Key()] = last
			return e
		}
	}
	e, _ = buildGlobal(model.Source{}, nil)
	return e
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// routes validates the EdgeRoutes, then admits them in order — routes in force before first,
// so that a newcomer cannot take a host and match from a route that already serves it.
func (c *compiler) routes(policies []Policy, edge model.Edge) []model.Route {
	var ec *Policy
	for _, p := range c.inForce {
		if p.Config != nil {
			ec = &p
		}
	}
	def := routeDefaults{samplingPercent: edge.DefaultSamplingPercent, sloWindow: DefaultSLOWindow}
	if ec != nil {
		def.sloWindow = sloWindow(ec.Config)
	}
	type candidate struct {
		p     Policy
		route model.Route
	}
	var cands []candidate
	for _, p := range policies {
		r, err := buildRoute(p.Source, p.Route, def)
		if err != nil {
			last, ok := c.reject(p, err, true)
			if !ok {
				continue
			}
			if r, err = buildRoute(last.Source, last.Route, def); err != nil {
				continue
			}
			p = last
		} else {
			c.accept(p)
		}
		cands = append(cands, candidate{p, r})
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		_, aIn := c.lastGood[a.p.Key()]
		_, bIn := c.lastGood[b.p.Key()]
		return -cmp.Compare(btoi(aIn), btoi(bIn))
	})
	claims := map[string]string{}
	var out []model.Route
	for _, cand := range cands {
		if other := claim(claims, cand.route); other != "" {
			c.retract(cand.p, &Problem{Source: cand.p.Source, Field: "spec.match", Err: ErrConflict,
				Message: fmt.Sprintf("the same host and match is served by %s", other)})
			continue
		}
		c.inForce[cand.p.Key()] = cand.p
		out = append(out, cand.route)
	}
	slices.SortFunc(out, func(a, b model.Route) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// retract turns the verdict on p into a rejection after all, for a conflict found once every
// route was validated.
func (c *compiler) retract(p Policy, problem error) {
	delete(c.inForce, p.Key())
	for i := range c.verdicts {
		if key(c.verdicts[i].Source) == p.Key() {
			c.verdicts[i].Accepted, c.verdicts[i].Stale = false, false
			c.verdicts[i].Problems = errors.Join(c.verdicts[i].Problems, problem)
		}
	}
}

// claim registers the route's host and match keys and returns the name of a route that
// holds one of them already, or "".
func claim(claims map[string]string, r model.Route) string {
	hosts := r.Hosts
	if len(hosts) == 0 {
		hosts = []string{"*"}
	}
	m := matchKey(r.Match)
	for _, h := range hosts {
		if other, ok := claims[h+" "+m]; ok {
			return other
		}
	}
	for _, h := range hosts {
		claims[h+" "+m] = r.Name
	}
	return ""
}

// matchKey is a canonical form of a match: equal keys select the same requests.
func matchKey(m model.Match) string {
	var b strings.Builder
	fmt.Fprintf(&b, "prefix=%q path=%q regex=%q methods=%s", m.Prefix, m.Path, m.Regex, strings.Join(m.Methods, ","))
	hs := slices.Clone(m.Headers)
	slices.SortFunc(hs, func(a, b model.HeaderMatch) int { return strings.Compare(a.Name, b.Name) })
	for _, h := range hs {
		fmt.Fprintf(&b, " h:%s=%q/%q/%q/%t", h.Name, h.Exact, h.Prefix, h.Regex, h.Present)
	}
	return b.String()
}
