package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/edgetel/edgetel/model"
)

// SinkClusterName is the key of the sink's endpoints in EndpointsForModel: the name of the
// sink's cluster, xds.SinkCluster (which config cannot import).
const SinkClusterName = "edgetel_sink"

// kubeServiceIndex indexes EndpointSlices by their Service, namespace/name.
const kubeServiceIndex = "service"

func kubeSliceService(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + name}, nil
}

// KubeServiceKey is the key of a Service port's endpoints in KubeState.Endpoints:
// "namespace/service:port", where port is the Service's port number (what an EdgeRoute's
// backend.port names), not the target port the endpoints listen on.
func KubeServiceKey(namespace, service string, port uint32) string {
	return namespace + "/" + service + ":" + strconv.FormatUint(uint64(port), 10)
}

// EndpointsForModel picks from all (KubeState.Endpoints) the endpoints that the model e uses,
// keyed by cluster name: every Kubernetes backend of e's routes under its Backend.Cluster
// (the Service in the route's namespace), and the sink Service under SinkClusterName. Every
// such cluster has an entry, empty when the Service has no ready endpoint (or does not
// exist), so that the xDS server can publish an empty assignment rather than none. The
// slices are shared with all and must not be modified.
func EndpointsForModel(e *model.Edge, all map[string][]model.Endpoint) map[string][]model.Endpoint {
	out := map[string][]model.Endpoint{}
	for _, r := range e.Routes {
		b := r.Backend
		if !b.IsKubernetes() {
			continue
		}
		if _, done := out[b.Cluster]; !done {
			out[b.Cluster] = kubeNonNil(all[KubeServiceKey(r.Namespace, b.Service, b.Port)])
		}
	}
	if ns, name, ok := strings.Cut(e.Sink.Service, "/"); ok {
		out[SinkClusterName] = kubeNonNil(all[KubeServiceKey(ns, name, e.Sink.Port)])
	}
	return out
}

func kubeNonNil(eps []model.Endpoint) []model.Endpoint {
	if eps == nil {
		return []model.Endpoint{}
	}
	return eps
}

// kubeServiceEndpoints adds to out the ready endpoints of every TCP port of svc, found in its
// EndpointSlices. Routes carry HTTP, so UDP and SCTP ports (which may reuse a TCP port's
// number) are left out. An endpoint's port is the slice's port of the same name as the
// Service port: the target port, resolved by the EndpointSlice controller per endpoint set.
func kubeServiceEndpoints(out map[string][]model.Endpoint, svc *corev1.Service, eps []*discoveryv1.EndpointSlice) {
	for _, sp := range svc.Spec.Ports {
		if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
			continue
		}
		var list []model.Endpoint
		for _, s := range eps {
			port, ok := kubeSlicePort(s, sp)
			if !ok || (s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6) {
				continue
			}
			for _, e := range s.Endpoints {
				// A nil Ready means ready (discovery/v1); terminating endpoints are never ready.
				if (e.Conditions.Ready != nil && !*e.Conditions.Ready) || len(e.Addresses) == 0 {
					continue
				}
				// The addresses of one endpoint are fungible; consumers use the first.
				ep := model.Endpoint{Address: e.Addresses[0], Port: port}
				if e.Zone != nil {
					ep.Zone = *e.Zone
				}
				list = append(list, ep)
			}
		}
		if len(list) == 0 {
			continue
		}
		// During a rollout an endpoint may sit in two slices for a moment.
		slices.SortFunc(list, func(a, b model.Endpoint) int {
			return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Zone, b.Zone))
		})
		out[KubeServiceKey(svc.Namespace, svc.Name, uint32(sp.Port))] = slices.Compact(list)
	}
}

// kubeSlicePort returns the port of slice s that serves Service port sp.
func kubeSlicePort(s *discoveryv1.EndpointSlice, sp corev1.ServicePort) (uint32, bool) {
	for _, p := range s.Ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto != corev1.ProtocolTCP || kubePtrOr(p.Name, "") != sp.Name {
			continue
		}
		switch {
		case p.Port != nil && *p.Port > 0:
			return uint32(*p.Port), true
		case sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal > 0:
			return uint32(sp.TargetPort.IntVal), true
		default:
			return uint32(sp.Port), true
		}
	}
	return 0, false
}

func kubePtrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
