package xds

import (
	"errors"
	"fmt"
	"strconv"

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
// skip the routes, virtual hosts, api listeners and clusters that an earlier result
// validated: the same unmodified message is valid again. Everything else, and every
// reference, is checked every time.
func (r *Resources) Validate() error {
	todo := &routeChecks{seen: map[*routev3.Route]bool{}}
	errs := appendErr(nil, r.checkListeners(todo))
	vhosts := map[*routev3.VirtualHost]bool{}
	for _, rc := range r.Routes {
		errs = appendErr(errs, r.checkRouteConfig(rc, vhosts, todo))
	}
	errs = appendErr(errs, r.checkRoutes(todo.routes))
	r.rememberValid(todo.pending)
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

// routeAt is a route to check and where it is: in a route configuration, or inline in the
// api listener named listener.
type routeAt struct {
	route    *routev3.Route
	vhost    *routev3.VirtualHost
	rc       *routev3.RouteConfiguration
	listener string
}

func (at routeAt) String() string {
	if at.listener != "" {
		return fmt.Sprintf("route %q in virtual host %q of listener %q: api_listener.api_listener(%s)",
			at.route.Name, at.vhost.Name, at.listener, hcmTypeName)
	}
	return fmt.Sprintf("route %q in virtual host %q of route configuration %q", at.route.Name, at.vhost.Name, at.rc.Name)
}

// routeChecks gathers, while Validate goes through listeners and route configurations, the
// routes to check (each once, though a route may be in many virtual hosts) and the messages
// whose own fields passed and that are valid once their routes are.
type routeChecks struct {
	routes  []routeAt
	seen    map[*routev3.Route]bool
	pending []validOnce
}

// validOnce is a virtual host or api listener that is valid once the routes of vhosts are.
type validOnce struct {
	msg    proto.Message
	vhosts []*routev3.VirtualHost
}

// addRoutes adds the routes of vh not known valid.
func (c *routeChecks) addRoutes(r *Resources, vh *routev3.VirtualHost, rc *routev3.RouteConfiguration, listener string) {
	for _, rt := range vh.Routes {
		if !c.seen[rt] && !r.checked.has(rt) {
			c.seen[rt] = true
			c.routes = append(c.routes, routeAt{route: rt, vhost: vh, rc: rc, listener: listener})
		}
	}
}

// checkRouteConfig validates a route configuration level by level and adds to todo the
// routes still to check: not those known valid, not those of a virtual host known valid,
// and those of a virtual host shared by several configurations once. Neither level has a
// rule on the count of its children, so this is ValidateAll's verdict.
func (r *Resources) checkRouteConfig(rc *routev3.RouteConfiguration, vhosts map[*routev3.VirtualHost]bool, todo *routeChecks) error {
	where := "route configuration " + quote(rc.Name)
	errs := appendErr(nil, checkMessage(without(rc, "virtual_hosts"), where))
	for _, vh := range rc.VirtualHosts {
		if vhosts[vh] || r.checked.has(vh) {
			continue
		}
		vhosts[vh] = true
		err := checkMessage(without(vh, "routes"), fmt.Sprintf("virtual host %q of %s", vh.Name, where))
		if err == nil {
			todo.pending = append(todo.pending, validOnce{msg: vh, vhosts: []*routev3.VirtualHost{vh}})
		}
		errs = appendErr(errs, err)
		todo.addRoutes(r, vh, rc, "")
	}
	return errors.Join(errs...)
}

// rememberValid marks valid the messages whose routes all turned out valid, so that the
// next Validate skips them.
func (r *Resources) rememberValid(pending []validOnce) {
	for _, p := range pending {
		valid := true
		for _, vh := range p.vhosts {
			for _, rt := range vh.Routes {
				valid = valid && r.checked.has(rt)
			}
		}
		if valid {
			r.checked.add(p.msg)
		}
	}
}

// checkRoutes validates routes on every CPU and remembers the valid ones. Problems are
// reported in the routes' order.
func (r *Resources) checkRoutes(routes []routeAt) error {
	errs := make([]error, len(routes))
	forEach(len(routes), routeChunk, func(i int) { errs[i] = checkRoute(routes[i]) })
	valid := make([]proto.Message, 0, len(routes))
	for i, at := range routes {
		if errs[i] == nil {
			valid = append(valid, at.route)
		}
	}
	r.checked.add(valid...)
	return errors.Join(errs...)
}

func checkRoute(at routeAt) error {
	var errs []error
	if err := at.route.ValidateAll(); err != nil {
		sentinel := ErrInvalidResource
		if at.listener != "" {
			sentinel = ErrInvalidTypedConfig // the route is inside the listener's Any
		}
		errs = append(errs, fmt.Errorf("%w: %s: %v", sentinel, at, err))
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
