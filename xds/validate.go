package xds

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Validate checks the resources as Envoy would, so that nothing it would reject is ever
// published (DESIGN.md, "Never"). It reports every problem, joined, each wrapping one of
// the package's sentinel errors:
//
//   - every resource passes its own rules (ValidateAll, ErrInvalidResource);
//   - every embedded Any (typed_config and the like, at any depth) unpacks to a known type
//     and passes that type's rules, recursively — ValidateAll alone never looks inside an
//     Any (ErrInvalidTypedConfig);
//   - every reference resolves: route → cluster, listener → route configuration, access log
//     and tracer → the sink cluster (ErrUnknownCluster, ErrUnknownRouteConfig), and every EDS
//     cluster has an assignment or is one whose assignment arrives apart (ErrNoEndpoints);
//   - names are unique per type, and domains per route configuration (ErrDuplicate).
//
// Routes, the bulk of a large edge, are checked in parallel. Resources from a Translator
// skip the routes and clusters that an earlier result validated: the same unmodified
// message is valid again. Everything else, and every reference, is checked every time.
func (r *Resources) Validate() error {
	var errs []error
	for _, l := range r.Listeners {
		errs = appendErr(errs, checkMessage(l, "listener "+quote(l.Name)))
	}
	var routes []routeAt
	vhosts := map[*routev3.VirtualHost]bool{}
	for _, rc := range r.Routes {
		var err error
		routes, err = r.checkRouteConfig(rc, vhosts, routes)
		errs = appendErr(errs, err)
	}
	errs = appendErr(errs, r.checkRoutes(routes))
	for _, c := range r.Clusters {
		if r.checked.has(c) {
			continue
		}
		err := checkMessage(c, "cluster "+quote(c.Name))
		if err == nil {
			r.checked.add(c)
		}
		errs = appendErr(errs, err)
	}
	for _, cla := range r.Endpoints {
		errs = appendErr(errs, checkMessage(cla, "endpoints "+quote(cla.ClusterName)))
	}
	errs = appendErr(errs, r.checkNames())
	errs = appendErr(errs, r.checkReferences())
	return errors.Join(errs...)
}

// routeAt is a route to check and where it is.
type routeAt struct {
	route *routev3.Route
	vhost *routev3.VirtualHost
	rc    *routev3.RouteConfiguration
}

func (at routeAt) String() string {
	return fmt.Sprintf("route %q in virtual host %q of route configuration %q", at.route.Name, at.vhost.Name, at.rc.Name)
}

// checkRouteConfig validates a route configuration level by level and returns, appended to
// routes, the routes still to check: not those known valid, and those of a virtual host
// shared by several configurations once. Neither level has a rule on the count of its
// children, so this is ValidateAll's verdict.
func (r *Resources) checkRouteConfig(rc *routev3.RouteConfiguration, vhosts map[*routev3.VirtualHost]bool, routes []routeAt) ([]routeAt, error) {
	where := "route configuration " + quote(rc.Name)
	errs := appendErr(nil, checkMessage(without(rc, "virtual_hosts"), where))
	for _, vh := range rc.VirtualHosts {
		if vhosts[vh] {
			continue
		}
		vhosts[vh] = true
		errs = appendErr(errs, checkMessage(without(vh, "routes"), fmt.Sprintf("virtual host %q of %s", vh.Name, where)))
		for _, rt := range vh.Routes {
			if !r.checked.has(rt) {
				routes = append(routes, routeAt{route: rt, vhost: vh, rc: rc})
			}
		}
	}
	return routes, errors.Join(errs...)
}

// checkRoutes validates routes on every CPU and remembers the valid ones. Problems are
// reported in the routes' order.
func (r *Resources) checkRoutes(routes []routeAt) error {
	workers := min(runtime.GOMAXPROCS(0), len(routes)/256+1)
	errs := make([]error, len(routes))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(routes); i += workers {
				if errs[i] = checkRoute(routes[i]); errs[i] == nil {
					r.checked.add(routes[i].route)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func checkRoute(at routeAt) error {
	var errs []error
	if err := at.route.ValidateAll(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %s: %v", ErrInvalidResource, at, err))
	}
	if embedded := checkEmbedded(at.route.ProtoReflect(), ""); len(embedded) > 0 {
		errs = append(errs, fmt.Errorf("%s: %w", at, errors.Join(embedded...)))
	}
	return errors.Join(errs...)
}

// checkMessage runs ValidateAll on m and on every Any inside it, at any depth.
func checkMessage(m proto.Message, where string) error {
	var errs []error
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrInvalidResource, where, err))
		}
	}
	errs = append(errs, checkEmbedded(m.ProtoReflect(), where)...)
	return errors.Join(errs...)
}

// without is a shallow copy of m without the named field; it shares everything else.
func without(m proto.Message, field protoreflect.Name) proto.Message {
	src := m.ProtoReflect()
	skip := src.Descriptor().Fields().ByName(field)
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd != skip {
			dst.Set(fd, v)
		}
		return true
	})
	return dst.Interface()
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}

func quote(s string) string { return strconv.Quote(s) }
