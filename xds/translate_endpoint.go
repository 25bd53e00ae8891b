package xds

import (
	"cmp"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgetel/edgetel/model"
)

// EndpointsFor is the assignment of an EDS cluster (a Kubernetes backend's, or the sink's)
// with the given ready endpoints: one locality per zone, sorted by zone, then address and
// port. Every endpoint weighs 1 and every locality the number of its endpoints, because
// gRPC's xDS client ignores a locality without a weight; Envoy uses the weights only where
// locality-weighted balancing is on. An address and port listed twice (gRPC refuses that) is kept once, in the first zone by name, and endpoints
// without an address or a port are left out. No endpoints give an empty assignment, which
// tells the cluster that it has none.
func EndpointsFor(cluster string, eps []model.Endpoint) *endpointv3.ClusterLoadAssignment {
	eps = slices.Clone(eps)
	slices.SortFunc(eps, func(a, b model.Endpoint) int {
		return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Zone, b.Zone))
	})
	eps = slices.CompactFunc(eps, func(a, b model.Endpoint) bool { return a.Address == b.Address && a.Port == b.Port })
	slices.SortFunc(eps, func(a, b model.Endpoint) int {
		return cmp.Or(cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
	})
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: cluster, Endpoints: []*endpointv3.LocalityLbEndpoints{}}
	var loc *endpointv3.LocalityLbEndpoints
	for _, ep := range eps {
		if ep.Address == "" || ep.Port == 0 || ep.Port > 65535 {
			continue
		}
		if loc == nil || loc.Locality.Zone != ep.Zone {
			loc = &endpointv3.LocalityLbEndpoints{Locality: &corev3.Locality{Zone: ep.Zone}}
			cla.Endpoints = append(cla.Endpoints, loc)
		}
		lb := lbEndpoint(ep.Address, ep.Port)
		lb.LoadBalancingWeight = wrapperspb.UInt32(1)
		loc.LbEndpoints = append(loc.LbEndpoints, lb)
		loc.LoadBalancingWeight = wrapperspb.UInt32(uint32(len(loc.LbEndpoints)))
	}
	return cla
}

func lbEndpoint(host string, port uint32) *endpointv3.LbEndpoint {
	return &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
		Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, port)},
	}}
}
