package xds

import (
	"slices"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
)

func TestAOneRouteChangeRebuildsOnlyTheVirtualHostsThatHoldIt(t *testing.T) {
	tests := []struct {
		name    string
		route   string
		rebuilt []string
	}{
		{"a route of one host rebuilds that host's virtual host", "g/b", []string{"b_example_com"}},
		{"a route that names no host rebuilds every virtual host", "g/all", []string{"*", "a_example_com", "b_example_com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTranslator()
			e := apiEdge()
			before, _ := translatorAPI(t, tr, e)
			after, _ := translatorAPI(t, tr, withTimeout(e, tt.route, 5*time.Second))
			old := map[string]*routev3.VirtualHost{}
			for _, vh := range before.Routes[0].VirtualHosts {
				old[vh.Name] = vh
			}
			var rebuilt []string
			for _, vh := range after.Routes[0].VirtualHosts {
				if old[vh.Name] != vh {
					rebuilt = append(rebuilt, vh.Name)
				} else if !after.checked.has(vh) {
					t.Errorf("virtual host %s is reused but not known valid", vh.Name)
				}
			}
			slices.Sort(rebuilt)
			if diff := cmp.Diff(tt.rebuilt, rebuilt); diff != "" {
				t.Errorf("rebuilt virtual hosts (-want +got):\n%s", diff)
			}
		})
	}
}
