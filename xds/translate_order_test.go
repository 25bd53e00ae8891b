package xds

import (
	"testing"

	"github.com/edgetel/edgetel/model"
)

func TestRouteOrder(t *testing.T) {
	route := func(name string, m model.Match, hosts ...string) model.Route {
		return model.Route{Name: name, Match: m, Hosts: hosts}
	}
	tests := []struct {
		name          string
		first, second model.Route
	}{
		{"an exact path comes before any prefix",
			route("b", model.Match{Path: "/a"}), route("a", model.Match{Prefix: "/a/very/long/prefix"})},
		{"an exact path comes before any regular expression",
			route("b", model.Match{Path: "/a"}), route("a", model.Match{Regex: "/a/very/long/literal/.*"})},
		{"a longer prefix comes before a shorter one",
			route("b", model.Match{Prefix: "/checkout/"}), route("a", model.Match{Prefix: "/check"})},
		{"a regular expression comes before a catch-all prefix",
			route("b", model.Match{Regex: "/orders/[0-9]+"}), route("a", model.Match{Prefix: "/"})},
		{"a regular expression with no literal beginning still comes before the catch-all prefix",
			route("b", model.Match{Regex: ".*\\.png"}), route("a", model.Match{Prefix: "/"})},
		{"a prefix longer than a regular expression's literal beginning comes first",
			route("b", model.Match{Prefix: "/orders/open/"}), route("a", model.Match{Regex: "/orders/[a-z]+/"})},
		{"a regular expression comes before a prefix equal to its literal beginning",
			route("b", model.Match{Regex: "/orders/[0-9]+"}), route("a", model.Match{Prefix: "/orders/"})},
		{"a route with methods comes before the same prefix without",
			route("b", model.Match{Prefix: "/cart/", Methods: []string{"POST"}}), route("a", model.Match{Prefix: "/cart/"})},
		{"a route with more headers comes before one with fewer",
			route("b", model.Match{Prefix: "/", Headers: []model.HeaderMatch{{Name: "a", Exact: "1"}, {Name: "b", Exact: "2"}}}),
			route("a", model.Match{Prefix: "/", Headers: []model.HeaderMatch{{Name: "a", Exact: "1"}}})},
		{"a route that names the host comes before a route for every host",
			route("b", model.Match{Prefix: "/x"}, "shop.example.com"), route("a", model.Match{Prefix: "/x"})},
		{"routes otherwise equal are ordered by name",
			route("a", model.Match{Path: "/x"}), route("b", model.Match{Path: "/y"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newOrderKey(&tt.first), newOrderKey(&tt.second)
			if a.compare(&b) >= 0 || b.compare(&a) <= 0 {
				t.Errorf("%q does not come before %q", tt.first.Name, tt.second.Name)
			}
		})
	}
}

func TestLiteralPrefix(t *testing.T) {
	tests := []struct{ name, re, want string }{
		{"a literal followed by a class stops at the class", "/orders/[0-9]+/items", "/orders/"},
		{"an anchor is skipped", "^/api/v1", "/api/v1"},
		{"an optional last character is not part of it", "/items?", "/item"},
		{"an alternation keeps only what its branches share", "/api/a|/api/b", "/api/"},
		{"an alternation of different beginnings has none", "a|/b", ""},
		{"case-insensitive text has none", "(?i)/api", ""},
		{"an expression that does not parse has none", "/a[", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := literalPrefix(tt.re); got != tt.want {
				t.Errorf("literalPrefix(%q) = %q, want %q", tt.re, got, tt.want)
			}
		})
	}
}
