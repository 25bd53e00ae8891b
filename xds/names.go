package xds

import "strings"

// Names of the resources edgetel builds. Envoy resource names are part of the project's
// contracts: route names key every SLI, cluster names join Envoy stats to routes.
//
//   - Listener of the edge: "edge_" + model listener name ("edge_http"). The underscore keeps
//     it apart from the API listeners, which are named by host and a host has no underscore.
//   - RouteConfiguration of an edge listener: the listener's name ("edge_http").
//   - Virtual host: its first domain with "." → "_" and ":" → "__" ("shop_example_com"), since
//     Envoy's stat tag extraction ends a vhost name at the first dot; the host-less routes'
//     virtual host is "*".
//   - Route: the model route name, namespace/name.
//   - Cluster: model Backend.Cluster; the sink is SinkCluster; the xDS server in the bootstrap
//     is XDSCluster.
//   - API listener (gRPC clients): the host, exactly as a client dials it: xds:///HOST.
const (
	// SinkCluster is the cluster of the telemetry sink: access logs, spans and stats go there.
	SinkCluster = "edgetel_sink"
	// XDSCluster is the bootstrap's cluster of the xDS server.
	XDSCluster = "edgetel_xds"
	// AccessLogName is the access log's log_name, which the sink sees on each stream.
	AccessLogName = "edgetel"
	// TracingServiceName is the service.name of Envoy's spans.
	TracingServiceName = "envoy-edge"
	// WildcardVirtualHost is the name (and the one domain) of the virtual host of routes
	// that name no host.
	WildcardVirtualHost = "*"
	// listenerPrefix starts the names of the edge listeners and their route configurations.
	listenerPrefix = "edge_"
)

// Envoy extension names.
const (
	hcmFilterName     = "envoy.filters.network.http_connection_manager"
	routerFilterName  = "envoy.filters.http.router"
	grpcAccessLogName = "envoy.access_loggers.http_grpc"
	otelAccessLogName = "envoy.access_loggers.open_telemetry"
	otelTracerName    = "envoy.tracers.opentelemetry"
	uuidRequestIDName = "envoy.request_id.uuid"
	tlsSocketName     = "envoy.transport_sockets.tls"
	metricsSinkName   = "envoy.stat_sinks.metrics_service"
	httpOptionsKey    = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// ListenerName is the Envoy name of the edge listener for a model listener.
func ListenerName(modelName string) string { return listenerPrefix + modelName }

// RouteConfigName is the name of the RouteConfiguration that an edge listener loads by RDS.
func RouteConfigName(modelListener string) string { return listenerPrefix + modelListener }

// VirtualHostName names the virtual host whose first (sorted) domain is domain.
func VirtualHostName(domain string) string {
	if domain == WildcardVirtualHost {
		return WildcardVirtualHost
	}
	return vhostReplacer.Replace(domain)
}

// Hosts have no "_", so the replacement is one-to-one.
var vhostReplacer = strings.NewReplacer(".", "_", ":", "__")
