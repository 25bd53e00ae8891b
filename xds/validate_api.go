package xds

import (
	"errors"
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

var hcmTypeName = string((&hcmv3.HttpConnectionManager{}).ProtoReflect().Descriptor().FullName())

// checkListeners validates the listeners not known valid, and adds to todo the routes
// still to check inside api listeners.
func (r *Resources) checkListeners(todo *routeChecks) error {
	var errs []error
	for _, l := range r.Listeners {
		if r.checked.has(l) {
			continue
		}
		if hcm := r.checked.packedHCM(l); hcm != nil {
			errs = appendErr(errs, r.checkAPIListener(l, hcm, todo))
		} else {
			errs = appendErr(errs, checkMessage(l, "listener "+quote(l.Name)))
		}
	}
	return errors.Join(errs...)
}

// checkAPIListener validates an api listener that this Resources' Translator built, level by
// level, as checkRouteConfig does a route configuration: the listener; the connection
// manager in its Any without the routes — the very message packed there (mustAny), never
// modified since, so the Any needs no unpacking; and, added to todo, the routes not known
// valid. A route shared with Envoy's route configurations or with other hosts (every route
// that names no host) is checked once.
func (r *Resources) checkAPIListener(l *listenerv3.Listener, hcm *hcmv3.HttpConnectionManager, todo *routeChecks) error {
	where := "listener " + quote(l.Name)
	var errs []error
	if err := l.ValidateAll(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %s: %v", ErrInvalidResource, where, err))
	}
	errs = append(errs, checkEmbedded(without(l, "api_listener").ProtoReflect(), where)...)
	inner := where + ": api_listener.api_listener(" + hcmTypeName + ")"
	shell := apiShell(hcm)
	if err := shell.ValidateAll(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %s: %v", ErrInvalidTypedConfig, inner, err))
	}
	errs = append(errs, checkEmbedded(shell.ProtoReflect(), inner)...)
	rc := hcm.GetRouteConfig()
	if len(errs) == 0 {
		todo.pending = append(todo.pending, validOnce{msg: l, vhosts: rc.GetVirtualHosts()})
	}
	for _, vh := range rc.GetVirtualHosts() {
		todo.addRoutes(r, vh, rc, l.Name)
	}
	return errors.Join(errs...)
}

// apiShell is hcm with the routes of its inline route configuration left out: a shallow copy
// that shares everything else. Neither the route configuration nor the virtual host has a
// rule on the number of its children, so the shell passes ValidateAll exactly when hcm
// would with routes that pass.
func apiShell(hcm *hcmv3.HttpConnectionManager) *hcmv3.HttpConnectionManager {
	rc := hcm.GetRouteConfig()
	if rc == nil {
		return hcm
	}
	shellRC := without(rc, "virtual_hosts").(*routev3.RouteConfiguration)
	for _, vh := range rc.GetVirtualHosts() {
		shellRC.VirtualHosts = append(shellRC.VirtualHosts, without(vh, "routes").(*routev3.VirtualHost))
	}
	shell := without(hcm, "route_config").(*hcmv3.HttpConnectionManager)
	shell.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: shellRC}
	return shell
}
