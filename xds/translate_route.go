package xds

import (
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgetel/edgetel/model"
)

// translateRoute builds the Envoy route of one model route. It reads nothing but the route,
// so a Translator reuses the result for as long as the route does not change.
//
// The route is named namespace/name: the access log's route_name, and so the SLI key.
func translateRoute(r *model.Route) (*routev3.Route, error) {
	if !routeUTF8(r) {
		return nil, untranslatable("route", r.Name, "holds a string that is not UTF-8")
	}
	if r.Backend.Cluster == "" {
		return nil, untranslatable("route", r.Name, "has no backend cluster")
	}
	match, err := routeMatch(r)
	if err != nil {
		return nil, err
	}
	action := &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: r.Backend.Cluster},
		RetryPolicy:      retryPolicy(r.Retries),
	}
	if r.Timeout > 0 {
		action.Timeout = durationpb.New(r.Timeout)
	}
	return &routev3.Route{
		Name:    r.Name,
		Match:   match,
		Action:  &routev3.Route_Route{Route: action},
		Tracing: routeTracing(r.SamplingPercent),
	}, nil
}

func routeMatch(r *model.Route) (*routev3.RouteMatch, error) {
	m := r.Match
	out := &routev3.RouteMatch{}
	switch {
	case countSet(m.Path, m.Prefix, m.Regex) != 1:
		return nil, untranslatable("route", r.Name, "needs exactly one of path, prefix and regex")
	case m.Path != "":
		out.PathSpecifier = &routev3.RouteMatch_Path{Path: m.Path}
	case m.Prefix != "":
		out.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: m.Prefix}
	default:
		out.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: m.Regex}}
	}
	if len(m.Methods) > 0 {
		out.Headers = append(out.Headers, methodMatcher(m.Methods))
	}
	for _, h := range m.Headers {
		hm, err := headerMatcher(r.Name, h)
		if err != nil {
			return nil, err
		}
		out.Headers = append(out.Headers, hm)
	}
	return out, nil
}

// methodMatcher matches the :method pseudo-header. Envoy's regular expressions match the
// whole value, so "GET|HEAD" needs no anchors.
func methodMatcher(methods []string) *routev3.HeaderMatcher {
	if len(methods) == 1 {
		return stringHeader(":method", exact(methods[0]))
	}
	quoted := make([]string, len(methods))
	for i, m := range methods {
		quoted[i] = regexp.QuoteMeta(m)
	}
	return stringHeader(":method", safeRegex(strings.Join(quoted, "|")))
}

func headerMatcher(route string, h model.HeaderMatch) (*routev3.HeaderMatcher, error) {
	switch {
	case countSet(h.Exact, h.Prefix, h.Regex) > 1:
		return nil, untranslatable("route", route, "header %q needs at most one of exact, prefix and regex", h.Name)
	case h.Exact != "":
		return stringHeader(h.Name, exact(h.Exact)), nil
	case h.Prefix != "":
		return stringHeader(h.Name, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: h.Prefix}}), nil
	case h.Regex != "":
		return stringHeader(h.Name, safeRegex(h.Regex)), nil
	}
	// No value matcher: the header must be present, or with Present false, absent.
	return &routev3.HeaderMatcher{
		Name:                 h.Name,
		HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: h.Present},
	}, nil
}

func stringHeader(name string, m *matcherv3.StringMatcher) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: m}}
}

func exact(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
}

func safeRegex(re string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}}
}

// retryPolicy is nil for a route without retries: no policy, no attempts or no conditions.
// (gRPC clients refuse num_retries 0, and Envoy would retry on nothing anyway.)
func retryPolicy(r *model.Retries) *routev3.RetryPolicy {
	if r == nil || r.Attempts == 0 || len(r.On) == 0 {
		return nil
	}
	rp := &routev3.RetryPolicy{RetryOn: strings.Join(r.On, ","), NumRetries: wrapperspb.UInt32(r.Attempts)}
	if r.PerTryTimeout > 0 {
		rp.PerTryTimeout = durationpb.New(r.PerTryTimeout)
	}
	return rp
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}
