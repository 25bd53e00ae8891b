package xds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/model"
)

// published is the configuration in force: the last one Publish accepted.
type published struct {
	// version identifies the whole configuration; "" before the first publish.
	version string
	// envoy and grpc are the snapshots of each flavour of client.
	envoy, grpc *cachev3.Snapshot
}

// Publish validates res and serves it to every Envoy. gRPC clients get the same routes,
// clusters and endpoints but no listener: PublishEdge serves them their api_listeners too.
// A listener that loads its certificate over SDS is published even when the secret is not
// (yet) set: it is reported missing (SetSecrets) and Envoy keeps it warming meanwhile.
//
// An invalid res is refused: the error wraps ErrRejected, it is logged and counted
// (edgetel_xds_publish_rejected_total), and the last good configuration stays in force.
// Publishing what is already in force pushes nothing. res must not be modified afterwards.
func (s *Server) Publish(res *Resources) error {
	return s.publish(res, nil)
}

// PublishEdge translates e and publishes the result as Publish does, and the api_listener
// flavour of its listeners (APIListeners) for gRPC clients. A model that does not
// translate is refused like an invalid res. The server's Translator reuses what did not
// change since the last call, so that a change of one route at 10,000 costs milliseconds
// (server_bench_test.go).
func (s *Server) PublishEdge(e *model.Edge) error {
	res, err := s.translator.Translate(e)
	if err != nil {
		return s.reject(err)
	}
	return s.publish(res, s.translator.APIListeners(e))
}

// Version returns the version of the configuration in force, "" before the first publish.
func (s *Server) Version() string {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.published.version
}

func (s *Server) publish(res *Resources, api []*listenerv3.Listener) error {
	if res == nil {
		return s.reject(ErrNoResources)
	}
	if err := res.Validate(); err != nil {
		return s.reject(err)
	}
	if len(api) > 0 {
		// The gRPC flavour differs only by its listeners, whose routes are inline: validate
		// them against the clusters, without validating the route configurations again.
		grpcRes := *res
		grpcRes.Listeners, grpcRes.Routes = api, nil
		if err := grpcRes.Validate(); err != nil {
			return s.reject(fmt.Errorf("api listeners: %w", err))
		}
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.hasher.next()
	next, err := snapshots(s.hasher, res, api)
	if err != nil {
		return s.rejectLocked(err)
	}
	// Endpoints first: a cluster that the new snapshot adds then finds its assignment ready.
	s.setPublishedEndpoints(res.Endpoints)
	if next.version == s.published.version {
		return nil
	}
	// SetSnapshot only fails when its context ends, and this one does not.
	_ = s.caches.config.SetSnapshot(context.Background(), flavourEnvoy, next.envoy)
	_ = s.caches.config.SetSnapshot(context.Background(), flavourGRPC, next.grpc)
	s.published = next
	s.setReferencedSecrets(res.Listeners)
	s.metrics.setVersion(next.version)
	s.log.Info("xds: configuration published", "version", next.version,
		"listeners", len(res.Listeners), "routes", len(res.Routes), "clusters", len(res.Clusters))
	return nil
}

func (s *Server) reject(err error) error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.rejectLocked(err)
}

func (s *Server) rejectLocked(err error) error {
	s.metrics.rejected.Inc()
	err = fmt.Errorf("%w: %w", ErrRejected, err)
	s.log.Error("xds: configuration rejected", "version_in_force", s.published.version, "error", err)
	return err
}

// snapshots builds the snapshot of each flavour, each type versioned by its content.
func snapshots(h *hasher, res *Resources, api []*listenerv3.Listener) (published, error) {
	listeners, err1 := contentVersion(h, res.Listeners)
	apiListeners, err2 := contentVersion(h, api)
	routes, err3 := contentVersion(h, res.Routes)
	clusters, err4 := contentVersion(h, res.Clusters)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return published{}, err
	}
	snap := func(listenersVersion string, ls []*listenerv3.Listener) *cachev3.Snapshot {
		var sn cachev3.Snapshot
		sn.Resources[types.Listener] = cachev3.NewResources(listenersVersion, asResources(ls))
		sn.Resources[types.Route] = cachev3.NewResources(routes, asResources(res.Routes))
		sn.Resources[types.Cluster] = cachev3.NewResources(clusters, asResources(res.Clusters))
		return &sn
	}
	all := sha256.Sum256([]byte(listeners + apiListeners + routes + clusters))
	return published{
		version: hex.EncodeToString(all[:8]),
		envoy:   snap(listeners, res.Listeners),
		grpc:    snap(apiListeners, api),
	}, nil
}

func asResources[T types.Resource](msgs []T) []types.Resource {
	out := make([]types.Resource, len(msgs))
	for i, m := range msgs {
		out[i] = m
	}
	return out
}

// endpointState is where the backends' assignments come from: the ones the translator
// published and the ones SetEndpoints set, which win.
type endpointState struct {
	published map[string]*endpointv3.ClusterLoadAssignment
	set       map[string]*endpointv3.ClusterLoadAssignment
	// served is what the LinearCache holds.
	served map[string]*endpointv3.ClusterLoadAssignment
}

func newEndpointState() endpointState {
	return endpointState{
		published: map[string]*endpointv3.ClusterLoadAssignment{},
		set:       map[string]*endpointv3.ClusterLoadAssignment{},
		served:    map[string]*endpointv3.ClusterLoadAssignment{},
	}
}

// SetEndpoints sets the ready endpoints of a Kubernetes backend's cluster: only that
// cluster's assignment is pushed, and only when it changed. An empty eps serves an
// assignment without endpoints. SetEndpoints(SinkCluster, eps) is SetSinkEndpoints(eps).
func (s *Server) SetEndpoints(cluster string, eps []model.Endpoint) {
	if cluster == SinkCluster {
		s.SetSinkEndpoints(eps)
		return
	}
	cla := EndpointsFor(cluster, sortEndpoints(eps))
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.endpoints.set[cluster] = cla
	s.syncEndpoints()
}

// SetSinkEndpoints sets the sink's ready endpoints. Each node is served the one it is
// pinned to (Pin); only the nodes whose pin moved get a push.
func (s *Server) SetSinkEndpoints(eps []model.Endpoint) {
	s.caches.sinks.setEndpoints(eps)
}

// setPublishedEndpoints takes the translator's assignments. Called with pubMu held.
func (s *Server) setPublishedEndpoints(clas []*endpointv3.ClusterLoadAssignment) {
	byName := make(map[string]*endpointv3.ClusterLoadAssignment, len(clas))
	var sink *endpointv3.ClusterLoadAssignment
	for _, cla := range clas {
		if cla.GetClusterName() == SinkCluster {
			sink = cla // served to all while the sink has no endpoints of its own
			continue
		}
		byName[cla.GetClusterName()] = cla
	}
	s.caches.sinks.setFallback(sink)
	s.endpoints.published = byName
	s.syncEndpoints()
}

// syncEndpoints brings the LinearCache to the assignments in force, touching only those
// that changed, so that no client gets an assignment it already has. Called with pubMu held.
func (s *Server) syncEndpoints() {
	want := maps.Clone(s.endpoints.published)
	maps.Copy(want, s.endpoints.set)
	update := map[string]types.Resource{}
	for name, cla := range want {
		if old, ok := s.endpoints.served[name]; !ok || !proto.Equal(old, cla) {
			update[name] = cla
		}
	}
	var remove []string
	for name := range s.endpoints.served {
		if _, ok := want[name]; !ok {
			remove = append(remove, name)
		}
	}
	if len(update) == 0 && len(remove) == 0 {
		return
	}
	if err := s.caches.backends.UpdateResources(update, remove); err != nil {
		// Only a failure to compute what a watch was sent gets here; the cache holds the new
		// assignments all the same and serves them to the next request.
		s.log.Error("xds: notifying endpoint watches", "error", err)
	}
	s.endpoints.served = want
}
