// Package xds compiles the model into Envoy's v3 configuration: listeners, routes, clusters
// and endpoints (Translate, or a Translator that reuses what did not change), the gRPC
// flavour of the listeners (APIListeners), the endpoints of a Kubernetes backend
// (EndpointsFor) and the bootstrap (Bootstrap, YAML). Each is a pure function of its input.
// Resources.Validate checks a result the way Envoy would before anything is published:
// every resource, every typed_config inside it, every reference between them.
//
// Where to look: names.go says how every resource is named; translate_vhost.go how routes
// are grouped into virtual hosts; translate_order.go in which order a virtual host's routes
// are tried; translate_api.go what gRPC clients get.
//
// Everything this package returns is shared and must be treated as immutable: a Translator
// hands the same messages to several results.
package xds

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/edgetel/edgetel/model"
)

// Sentinel errors: every problem Translate or Validate reports wraps one of them, with the
// name of the route, cluster or listener at fault.
var (
	// ErrUntranslatable: the model holds something the translator cannot express.
	ErrUntranslatable = errors.New("cannot translate")
	// ErrInvalidResource: a resource fails its own validation rules (ValidateAll).
	ErrInvalidResource = errors.New("invalid resource")
	// ErrInvalidTypedConfig: an embedded typed_config cannot be unpacked or fails validation.
	ErrInvalidTypedConfig = errors.New("invalid typed_config")
	// ErrUnknownCluster: a route, access log or tracer names a cluster that does not exist.
	ErrUnknownCluster = errors.New("unknown cluster")
	// ErrUnknownRouteConfig: a listener loads a route configuration that does not exist.
	ErrUnknownRouteConfig = errors.New("unknown route configuration")
	// ErrNoEndpoints: an EDS cluster will never receive an assignment, or an assignment
	// belongs to no EDS cluster.
	ErrNoEndpoints = errors.New("endpoints not resolvable")
	// ErrDuplicate: two resources of a type, or two virtual hosts' domains, share a name.
	ErrDuplicate = errors.New("duplicate name")
)

// Resources is the Envoy configuration of the edge, every slice sorted by name.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	// Endpoints holds the assignments the model determines by itself. There are none today:
	// backends with fixed addresses are STATIC or STRICT_DNS clusters, and the endpoints of
	// Kubernetes backends and of a Kubernetes sink arrive apart (EndpointsFor, sink pinning),
	// so that their churn never rebuilds the rest.
	Endpoints []*endpointv3.ClusterLoadAssignment

	// externalEDS names the EDS clusters whose assignments arrive apart from the model.
	externalEDS map[string]bool
	// checked, when set, remembers messages already found valid (see Translator).
	checked *checkedSet
}

// ExternalEDS reports whether cluster is an EDS cluster whose assignment arrives apart from
// the model: a Kubernetes backend's, or the sink's when the sink is a Kubernetes Service.
func (r *Resources) ExternalEDS(cluster string) bool { return r.externalEDS[cluster] }

// Options are what the translation needs beyond the model: how edgetel itself is deployed,
// which is the command line's business, not the policies'. The zero Options are plaintext.
type Options struct {
	// SinkTLS, when set, gives the sink's cluster the client side of mutual TLS.
	SinkTLS *UpstreamTLS
}

// Translate compiles the model into Envoy resources. It reports every problem it finds,
// joined; on error the Resources are partial and must not be published.
func Translate(e *model.Edge) (*Resources, error) {
	return translate(e, Options{}, nil)
}

// TranslateWith is Translate with Options.
func TranslateWith(e *model.Edge, o Options) (*Resources, error) {
	return translate(e, o, nil)
}

// translate is Translate, with a Translator's cache or none.
func translate(e *model.Edge, o Options, c *memo) (*Resources, error) {
	clusters, external, cerr := translateClusters(e, o, c)
	vhosts, verr := translateVirtualHosts(e.Routes, c)
	listeners, lerr := translateListeners(e)
	res := &Resources{
		Listeners:   listeners,
		Routes:      routeConfigs(e.Listeners, vhosts),
		Clusters:    clusters,
		Endpoints:   []*endpointv3.ClusterLoadAssignment{},
		externalEDS: external,
	}
	return res, errors.Join(cerr, verr, lerr)
}

func untranslatable(kind, name, format string, args ...any) error {
	return fmt.Errorf("%w: %s %q: %s", ErrUntranslatable, kind, name, fmt.Sprintf(format, args...))
}
