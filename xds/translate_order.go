package xds

import (
	"cmp"
	"regexp/syntax"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/edgetel/edgetel/model"
)

// orderRoutes returns the built routes of one virtual host, most specific first, because
// Envoy (and gRPC) take the first route that matches. The order, by each route's orderKey:
//
//  1. exact paths first;
//  2. then prefixes and regular expressions by the length of the fixed text that every path
//     they match starts with, longest first: a prefix's is itself, a regular expression's is
//     its literal beginning ("/orders/" for "/orders/[0-9]+"), and at least "/", since every
//     path starts with it. So a catch-all prefix "/" never shadows a regular expression,
//     which a plain "regular expressions last" would let it do;
//  3. at equal length, a regular expression before a prefix: it matches a subset of what the
//     prefix equal to its literal beginning matches;
//  4. then the route with more header conditions first (its methods count as one), so that
//     "POST /cart/" comes before "/cart/";
//  5. then a route that names the host before one that serves every host;
//  6. then by route name, so that the order is deterministic.
func orderRoutes(keys []orderKey, built []*routev3.Route, idx []int) []*routev3.Route {
	idx = slices.Clone(idx)
	slices.SortFunc(idx, func(a, b int) int { return keys[a].compare(&keys[b]) })
	out := make([]*routev3.Route, 0, len(idx))
	for _, i := range idx {
		if built[i] != nil {
			out = append(out, built[i])
		}
	}
	return out
}

// orderKey is what orderRoutes sorts a route by; it is computed once per route.
type orderKey struct {
	kind       int // 0 exact path, 1 regular expression, 2 prefix
	fixed      int // length of the fixed beginning (prefixes and regular expressions)
	conditions int
	anyHost    int // 1 for a route that names no host
	name       string
}

func newOrderKey(r *model.Route) orderKey {
	k := orderKey{conditions: len(r.Match.Headers), name: r.Name}
	if len(r.Match.Methods) > 0 {
		k.conditions++
	}
	if len(r.Hosts) == 0 {
		k.anyHost = 1
	}
	switch m := r.Match; {
	case m.Path != "":
		k.kind = 0
	case m.Prefix != "":
		k.kind, k.fixed = 2, len(m.Prefix)
	default:
		k.kind, k.fixed = 1, max(len(literalPrefix(m.Regex)), 1)
	}
	return k
}

func (a *orderKey) compare(b *orderKey) int {
	return cmp.Or(
		cmp.Compare(min(a.kind, 1), min(b.kind, 1)),
		-cmp.Compare(a.fixed, b.fixed),
		cmp.Compare(a.kind, b.kind),
		-cmp.Compare(a.conditions, b.conditions),
		cmp.Compare(a.anyHost, b.anyHost),
		cmp.Compare(a.name, b.name),
	)
}

// literalPrefix is the text every match of the regular expression starts with; "" if there
// is none or the expression does not parse.
func literalPrefix(re string) string {
	p, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return ""
	}
	p = p.Simplify()
	subs := []*syntax.Regexp{p}
	if p.Op == syntax.OpConcat {
		subs = p.Sub
	}
	var b strings.Builder
	for _, s := range subs {
		switch {
		case s.Op == syntax.OpBeginText || s.Op == syntax.OpBeginLine:
		case s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0:
			b.WriteString(string(s.Rune))
		default:
			return b.String()
		}
	}
	return b.String()
}
