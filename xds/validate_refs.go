package xds

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// checkReferences resolves every name one resource uses to find another.
func (r *Resources) checkReferences() error {
	clusters := make(map[string]*clusterv3.Cluster, len(r.Clusters))
	for _, c := range r.Clusters {
		clusters[c.Name] = c
	}
	routeConfigs := make(map[string]bool, len(r.Routes))
	var errs []error
	vhosts := map[*routev3.VirtualHost]bool{}
	for _, rc := range r.Routes {
		routeConfigs[rc.Name] = true
		errs = append(errs, checkRouteClusters(rc, clusters, vhosts))
	}
	for _, l := range r.Listeners {
		for _, hcm := range r.listenerHCMs(l) {
			errs = append(errs, checkHCM(l.Name, hcm, clusters, routeConfigs))
		}
	}
	errs = append(errs, r.checkEDS(clusters))
	return errors.Join(errs...)
}

// checkRouteClusters checks that every route sends to a cluster that exists.
func checkRouteClusters(rc *routev3.RouteConfiguration, clusters map[string]*clusterv3.Cluster, vhosts map[*routev3.VirtualHost]bool) error {
	var errs []error
	for _, vh := range rc.VirtualHosts {
		if vhosts[vh] {
			continue
		}
		vhosts[vh] = true
		for _, rt := range vh.Routes {
			if name, ok := missingCluster(rt, clusters); ok {
				errs = append(errs, fmt.Errorf("%w: route %q in virtual host %q of route configuration %q sends to cluster %q",
					ErrUnknownCluster, rt.Name, vh.Name, rc.Name, name))
			}
		}
	}
	return errors.Join(errs...)
}

// missingCluster returns the first cluster the route sends to that does not exist.
func missingCluster(rt *routev3.Route, clusters map[string]*clusterv3.Cluster) (string, bool) {
	action := rt.GetRoute()
	if c := action.GetCluster(); c != "" {
		return c, clusters[c] == nil
	}
	for _, wc := range action.GetWeightedClusters().GetClusters() {
		if clusters[wc.GetName()] == nil {
			return wc.GetName(), true
		}
	}
	return "", false
}

// listenerHCMs unpacks the HTTP connection managers of a listener: in its filter chains and
// in its api_listener. One that does not unpack is reported by Validate's Any check. An api
// listener of this Resources' Translator needs no unpacking: the message it packed is known.
func (r *Resources) listenerHCMs(l *listenerv3.Listener) []*hcmv3.HttpConnectionManager {
	if hcm := r.checked.packedHCM(l); hcm != nil {
		return []*hcmv3.HttpConnectionManager{hcm}
	}
	var anys []*anypb.Any
	for _, fc := range append([]*listenerv3.FilterChain{l.GetDefaultFilterChain()}, l.GetFilterChains()...) {
		for _, f := range fc.GetFilters() {
			anys = append(anys, f.GetTypedConfig())
		}
	}
	anys = append(anys, l.GetApiListener().GetApiListener())
	var out []*hcmv3.HttpConnectionManager
	for _, a := range anys {
		hcm := &hcmv3.HttpConnectionManager{}
		if a != nil && a.MessageIs(hcm) && a.UnmarshalTo(hcm) == nil {
			out = append(out, hcm)
		}
	}
	return out
}

// checkHCM resolves a connection manager's routes, and its access logs and tracer, which
// must stream to the sink.
func checkHCM(listener string, hcm *hcmv3.HttpConnectionManager, clusters map[string]*clusterv3.Cluster, routeConfigs map[string]bool) error {
	var errs []error
	if rds := hcm.GetRds(); rds != nil && !routeConfigs[rds.GetRouteConfigName()] {
		errs = append(errs, fmt.Errorf("%w: listener %q loads route configuration %q", ErrUnknownRouteConfig, listener, rds.GetRouteConfigName()))
	}
	if rc := hcm.GetRouteConfig(); rc != nil {
		errs = append(errs, checkRouteClusters(rc, clusters, map[*routev3.VirtualHost]bool{}))
	}
	for _, al := range hcm.GetAccessLog() {
		cfg := &grpcalsv3.HttpGrpcAccessLogConfig{}
		if al.GetTypedConfig().MessageIs(cfg) && al.GetTypedConfig().UnmarshalTo(cfg) == nil {
			errs = append(errs, checkSinkService(listener, "access log", cfg.GetCommonConfig().GetGrpcService(), clusters))
		}
	}
	otel := &tracev3.OpenTelemetryConfig{}
	if tc := hcm.GetTracing().GetProvider().GetTypedConfig(); tc.MessageIs(otel) && tc.UnmarshalTo(otel) == nil {
		errs = append(errs, checkSinkService(listener, "tracer", otel.GetGrpcService(), clusters))
	}
	return errors.Join(errs...)
}

func checkSinkService(listener, what string, svc *corev3.GrpcService, clusters map[string]*clusterv3.Cluster) error {
	name := svc.GetEnvoyGrpc().GetClusterName()
	switch {
	case name != SinkCluster:
		return fmt.Errorf("%w: the %s of listener %q streams to %q, not to the sink cluster %q", ErrUnknownCluster, what, listener, name, SinkCluster)
	case clusters[name] == nil:
		return fmt.Errorf("%w: the %s of listener %q streams to the sink cluster %q, which does not exist", ErrUnknownCluster, what, listener, name)
	}
	return nil
}

// checkEDS checks that every EDS cluster has an assignment, here or apart, and that every
// assignment here belongs to an EDS cluster.
func (r *Resources) checkEDS(clusters map[string]*clusterv3.Cluster) error {
	assigned := make(map[string]bool, len(r.Endpoints))
	for _, cla := range r.Endpoints {
		assigned[cla.ClusterName] = true
	}
	var errs []error
	eds := map[string]bool{}
	for _, c := range r.Clusters {
		if c.GetType() != clusterv3.Cluster_EDS {
			continue
		}
		name := c.GetEdsClusterConfig().GetServiceName()
		if name == "" {
			name = c.Name
		}
		eds[name] = true
		if !assigned[name] && !r.externalEDS[c.Name] {
			errs = append(errs, fmt.Errorf("%w: EDS cluster %q has no assignment and none arrives apart", ErrNoEndpoints, c.Name))
		}
	}
	for _, cla := range r.Endpoints {
		if !eds[cla.ClusterName] {
			errs = append(errs, fmt.Errorf("%w: the assignment %q belongs to no EDS cluster", ErrNoEndpoints, cla.ClusterName))
		}
	}
	return errors.Join(errs...)
}

// checkNames checks that names are unique per type, and domains per route configuration.
func (r *Resources) checkNames() error {
	var errs []error
	errs = append(errs, unique("listener", r.Listeners, (*listenerv3.Listener).GetName))
	errs = append(errs, unique("route configuration", r.Routes, (*routev3.RouteConfiguration).GetName))
	errs = append(errs, unique("cluster", r.Clusters, (*clusterv3.Cluster).GetName))
	errs = append(errs, unique("endpoints", r.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName))
	for _, rc := range r.Routes {
		var domains []string
		for _, vh := range rc.VirtualHosts {
			domains = append(domains, vh.Domains...)
		}
		in := " in route configuration " + quote(rc.Name)
		errs = append(errs, unique("virtual host"+in+":", rc.VirtualHosts, (*routev3.VirtualHost).GetName))
		errs = append(errs, unique("domain"+in+":", domains, func(s string) string { return s }))
	}
	return errors.Join(errs...)
}

func unique[T any](kind string, items []T, name func(T) string) error {
	seen := make(map[string]bool, len(items))
	var errs []error
	for _, it := range items {
		n := name(it)
		if seen[n] {
			errs = append(errs, fmt.Errorf("%w: %s %q", ErrDuplicate, kind, n))
		}
		seen[n] = true
	}
	return errors.Join(errs...)
}
