package xds

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/edgetel/edgetel/model"
)

// apiEdge is a small model for gRPC: two hosts, a route that names no host, a route with
// POST among its methods and one to an address backend.
func apiEdge() *model.Edge {
	e := testEdge()
	e.Routes = []model.Route{
		kubeRoute("g/a", "/a.A/", nil, "a.example.com"),
		kubeRoute("g/all", "/", nil),
		kubeRoute("g/b", "/b.B/", nil, "b.example.com"),
		kubeRoute("g/b-post", "/b.B/Post", []string{"GET", "POST"}, "b.example.com"),
		testRoute("g/c", "/c/", "a.example.com"),
	}
	return e
}

func withTimeout(e *model.Edge, route string, d time.Duration) *model.Edge {
	c := *e
	c.Routes = append([]model.Route(nil), e.Routes...)
	c.Route(route).Timeout = d
	return &c
}

// translatorAPI translates e with t as PublishEdge does and validates both flavours.
func translatorAPI(t *testing.T, tr *Translator, e *model.Edge) (*Resources, []*listenerv3.Listener) {
	t.Helper()
	res, err := tr.Translate(e)
	if err != nil {
		t.Fatal(err)
	}
	api := tr.APIListeners(e)
	grpcRes := *res
	grpcRes.Listeners, grpcRes.Routes = api, nil
	if err := errors.Join(res.Validate(), grpcRes.Validate()); err != nil {
		t.Fatal(err)
	}
	return res, api
}

func byListenerName(ls []*listenerv3.Listener) map[string]*listenerv3.Listener {
	out := map[string]*listenerv3.Listener{}
	for _, l := range ls {
		out[l.Name] = l
	}
	return out
}

func TestATranslatorsAPIListenersAreAPIListenersAfterEveryChange(t *testing.T) {
	tr := NewTranslator()
	e := apiEdge()
	for i, next := range []*model.Edge{e, withTimeout(e, "g/a", time.Second), withTimeout(e, "g/all", 2*time.Second),
		withTimeout(e, "g/b-post", 3*time.Second), e} {
		_, got := translatorAPI(t, tr, next)
		if diff := cmp.Diff(APIListeners(next), got, protocmp.Transform()); diff != "" {
			t.Errorf("model %d: the Translator's api listeners differ from APIListeners' (-want +got):\n%s", i, diff)
		}
	}
}

func TestAOneRouteChangeRebuildsOnlyTheAPIListenerOfItsHost(t *testing.T) {
	tests := []struct {
		name    string
		route   string
		rebuilt []string
	}{
		{"a route of one host rebuilds that host's listener", "g/a", []string{"a.example.com"}},
		{"a route that names no host rebuilds every listener", "g/all", []string{"a.example.com", "b.example.com"}},
		{"a route that gRPC does not see rebuilds none", "g/c", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTranslator()
			e := apiEdge()
			_, before := translatorAPI(t, tr, e)
			_, after := translatorAPI(t, tr, withTimeout(e, tt.route, 5*time.Second))
			old := byListenerName(before)
			var rebuilt []string
			for name, l := range byListenerName(after) {
				if old[name] != l {
					rebuilt = append(rebuilt, name)
				}
			}
			slices.Sort(rebuilt)
			if diff := cmp.Diff(tt.rebuilt, rebuilt); diff != "" {
				t.Errorf("rebuilt listeners (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnAPIListenerSharesEveryRouteWithoutMethodsWithEnvoysRouteConfiguration(t *testing.T) {
	tr := NewTranslator()
	res, api := translatorAPI(t, tr, apiEdge())
	envoy := map[string]bool{}
	for _, vh := range res.Routes[0].VirtualHosts {
		for _, r := range vh.Routes {
			envoy[r.Name] = true
			for _, l := range api {
				for _, ar := range tr.c.checked.packedHCM(l).GetRouteConfig().GetVirtualHosts()[0].Routes {
					if ar.Name == r.Name && (ar == r) != (r.Name != "g/b-post") {
						t.Errorf("route %s: shared with Envoy's = %t", r.Name, ar == r)
					}
				}
			}
		}
	}
}

// TestValidateChecksTheRoutesInsideATranslatorsAPIListener breaks what a Translator packed
// (which nothing may do outside a test) to see that the level-by-level check of an api
// listener still finds it.
func TestValidateChecksTheRoutesInsideATranslatorsAPIListener(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(l *listenerv3.Listener, tr *Translator)
		want  string
	}{
		{"a route without a match", func(l *listenerv3.Listener, tr *Translator) {
			tr.c.checked.packedHCM(l).GetRouteConfig().VirtualHosts[0].Routes[0].Match = nil
		}, `route "g/a" in virtual host "a_example_com" of listener "a.example.com"`},
		{"a connection manager without a stat prefix", func(l *listenerv3.Listener, tr *Translator) {
			tr.c.checked.packedHCM(l).StatPrefix = ""
		}, `listener "a.example.com": api_listener.api_listener(envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTranslator()
			e := apiEdge()
			res, err := tr.Translate(e)
			if err != nil {
				t.Fatal(err)
			}
			api := tr.APIListeners(e)
			tt.spoil(api[0], tr)
			grpcRes := *res
			grpcRes.Listeners, grpcRes.Routes = api, nil
			err = grpcRes.Validate()
			if !errors.Is(err, ErrInvalidTypedConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v; want ErrInvalidTypedConfig naming %s", err, tt.want)
			}
		})
	}
}
