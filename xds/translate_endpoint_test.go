package xds

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgetel/edgetel/model"
)

// claLayout is an assignment as zone → "address:port/weight", and the locality weights.
func claLayout(t *testing.T, eps []model.Endpoint) (map[string][]string, map[string]uint32) {
	t.Helper()
	cla := EndpointsFor("k8s_ns_svc_80", eps)
	if err := cla.ValidateAll(); err != nil {
		t.Fatalf("the assignment is invalid: %v", err)
	}
	got, weights := map[string][]string{}, map[string]uint32{}
	for _, loc := range cla.Endpoints {
		zone := loc.GetLocality().GetZone()
		weights[zone] = loc.GetLoadBalancingWeight().GetValue()
		got[zone] = []string{}
		for _, lb := range loc.LbEndpoints {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			got[zone] = append(got[zone], fmt.Sprintf("%s:%d/%d", sa.GetAddress(), sa.GetPortValue(), lb.GetLoadBalancingWeight().GetValue()))
		}
	}
	return got, weights
}

func TestEndpointsFor(t *testing.T) {
	tests := []struct {
		name        string
		eps         []model.Endpoint
		want        map[string][]string
		wantWeights map[string]uint32
	}{
		{"endpoints are grouped by zone, each weighing 1 and each zone its count",
			[]model.Endpoint{{Address: "10.0.0.2", Port: 80, Zone: "b"}, {Address: "10.0.0.1", Port: 80, Zone: "a"}, {Address: "10.0.0.3", Port: 80, Zone: "a"}},
			map[string][]string{"a": {"10.0.0.1:80/1", "10.0.0.3:80/1"}, "b": {"10.0.0.2:80/1"}},
			map[string]uint32{"a": 2, "b": 1}},
		{"endpoints without a zone share the empty locality",
			[]model.Endpoint{{Address: "10.0.0.1", Port: 80}},
			map[string][]string{"": {"10.0.0.1:80/1"}}, map[string]uint32{"": 1}},
		{"an endpoint listed twice is kept once, in its first zone",
			[]model.Endpoint{{Address: "10.0.0.1", Port: 80, Zone: "b"}, {Address: "10.0.0.1", Port: 80, Zone: "a"}},
			map[string][]string{"a": {"10.0.0.1:80/1"}}, map[string]uint32{"a": 1}},
		{"endpoints without an address or a port are left out",
			[]model.Endpoint{{Address: "", Port: 80}, {Address: "10.0.0.1", Port: 0}},
			map[string][]string{}, map[string]uint32{}},
		{"no endpoints give an empty assignment", nil, map[string][]string{}, map[string]uint32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, weights := claLayout(t, tt.eps)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("endpoints differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWeights, weights); diff != "" {
				t.Errorf("locality weights differ (-want +got):\n%s", diff)
			}
		})
	}
}
