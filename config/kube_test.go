package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/kubetest"
	"github.com/edgetel/edgetel/model"
)

func checkoutSpec() v1alpha1.EdgeRouteSpec {
	return v1alpha1.EdgeRouteSpec{
		Hosts:   []string{"shop.example.com"},
		Match:   v1alpha1.RouteMatch{Prefix: "/checkout/"},
		Backend: v1alpha1.Backend{Service: "checkout", Port: 8080},
	}
}

// TestKube drives the Kubernetes source against a real API server, one API server for all
// steps (each start costs seconds). The steps run in order and build on each other's
// objects, as a cluster's history would.
func TestKube(t *testing.T) {
	env := kubetest.Start(t, kubetest.Options{})
	r := newKubeRig(t, env)
	r.namespace(t, "shop")
	for _, step := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"a route and its Service's EndpointSlice compile into a model with the route's ready endpoints", r.endpointsFollow},
		{"a valid route is Accepted=True for its generation", r.validAccepted},
		{"an invalid route is Accepted=False with its problem and the model keeps its last good version", r.invalidKeepsLastGood},
		{"a new route with a target the schema allows but Compile does not is rejected and left out", r.newInvalidLeftOut},
		{"a route claiming a host and match in force is Accepted=False as Conflicted", r.conflicted},
		{"a threshold like fast is refused by the CRD schema before the source sees it", r.schemaRefuses},
		{"writing unchanged verdicts writes nothing", r.noWriteLoop},
		{"deleting routes removes them and their endpoints from the model", r.deleteRemoves},
		{"the sink Service's endpoints are keyed edgetel_sink", r.sinkEndpoints},
		{"a kubernetes.io/tls Secret that the EdgeConfig names appears in the state, and no other Secret is read", r.secretsFollow},
		{"a stopped source starts again, and Shutdown is safe twice and without Start", r.restart},
	} {
		if !t.Run(step.name, step.run) {
			return // the later steps build on this one
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.statusErr != nil {
		t.Errorf("WriteStatus: %v", r.statusErr)
	}
}

// endpointsFollow creates a Service, its EndpointSlice and a route to it, then takes an
// endpoint away.
func (r *kubeRig) endpointsFollow(t *testing.T) {
	r.service(t, "shop", "checkout", "http", 8080, 9090)
	r.slice(t, "shop", "checkout-1", "checkout", "http", 9090,
		kubeEndpoint("10.1.0.1", "zone-a", kubePtr(true)),
		kubeEndpoint("10.1.0.2", "zone-a", kubePtr(false)),
		kubeEndpoint("10.1.0.3", "", nil))
	if err := r.createRoute(t, "shop", "checkout", checkoutSpec()); err != nil {
		t.Fatal(err)
	}
	want := []model.Endpoint{{Address: "10.1.0.1", Port: 9090, Zone: "zone-a"}, {Address: "10.1.0.3", Port: 9090}}
	r.eventually(t, "the route's endpoints", func() error { return r.routeEndpoints("shop/checkout", want) })

	r.slice(t, "shop", "checkout-1", "checkout", "http", 9090, kubeEndpoint("10.1.0.3", "", nil))
	want = []model.Endpoint{{Address: "10.1.0.3", Port: 9090}}
	r.eventually(t, "the endpoints after a change", func() error { return r.routeEndpoints("shop/checkout", want) })
}

// validAccepted checks the status of the route, before and after a spec change.
func (r *kubeRig) validAccepted(t *testing.T) {
	r.eventually(t, "Accepted=True for generation 1", func() error {
		return kubeAccepted(r.route(t, "shop", "checkout").Status, metav1.ConditionTrue, config.ReasonAccepted, 1)
	})
	r.updateRoute(t, "shop", "checkout", func(s *v1alpha1.EdgeRouteSpec) { s.Timeout = "3s" })
	r.eventually(t, "Accepted=True for generation 2", func() error {
		return kubeAccepted(r.route(t, "shop", "checkout").Status, metav1.ConditionTrue, config.ReasonAccepted, 2)
	})
	r.eventually(t, "the new timeout in the model", func() error {
		if rt := r.modelRoute("shop/checkout"); rt == nil || rt.Timeout != 3*time.Second {
			return fmt.Errorf("route is %+v", rt)
		}
		return nil
	})
}

// invalidKeepsLastGood breaks the route in a way the CRD schema allows.
func (r *kubeRig) invalidKeepsLastGood(t *testing.T) {
	before, _ := r.current()
	r.updateRoute(t, "shop", "checkout", func(s *v1alpha1.EdgeRouteSpec) { s.Match.Path = "/checkout/pay" })
	r.eventually(t, "Accepted=False for generation 3", func() error {
		return kubeAccepted(r.route(t, "shop", "checkout").Status, metav1.ConditionFalse, config.ReasonInvalid, 3)
	})
	msg := r.message(t, "shop", "checkout")
	for _, want := range []string{"EdgeRoute shop/checkout: spec.match: set exactly one of prefix, path and regex", "last accepted version stays in force"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	after, _ := r.current()
	if diff := cmp.Diff(before.Edge, after.Edge); diff != "" {
		t.Errorf("the model changed (-before +after):\n%s", diff)
	}
}

// newInvalidLeftOut creates a route that was never valid: no last good version to keep.
func (r *kubeRig) newInvalidLeftOut(t *testing.T) {
	spec := checkoutSpec()
	spec.Match.Prefix = "/cart/"
	spec.SLO = &v1alpha1.SLOSpec{Objectives: []v1alpha1.Objective{{Name: "availability", Target: 100}}}
	if err := r.createRoute(t, "shop", "cart", spec); err != nil {
		t.Fatal(err)
	}
	r.eventually(t, "Accepted=False", func() error {
		return kubeAccepted(r.route(t, "shop", "cart").Status, metav1.ConditionFalse, config.ReasonInvalid, 1)
	})
	if msg := r.message(t, "shop", "cart"); !strings.Contains(msg, "spec.slo.objectives[0].target") {
		t.Errorf("message %q does not name the field", msg)
	}
	if rt := r.modelRoute("shop/cart"); rt != nil {
		t.Errorf("the rejected route is in the model: %+v", rt)
	}
}

// conflicted creates a second route for the host and match of the first.
func (r *kubeRig) conflicted(t *testing.T) {
	if err := r.createRoute(t, "shop", "checkout-copy", checkoutSpec()); err != nil {
		t.Fatal(err)
	}
	r.eventually(t, "Accepted=False", func() error {
		return kubeAccepted(r.route(t, "shop", "checkout-copy").Status, metav1.ConditionFalse, config.ReasonConflicted, 1)
	})
	if msg := r.message(t, "shop", "checkout-copy"); !strings.Contains(msg, "served by shop/checkout") {
		t.Errorf("message %q does not name the route in force", msg)
	}
}

// schemaRefuses shows why the invalid routes above are not bad durations: the API server
// refuses those itself.
func (r *kubeRig) schemaRefuses(t *testing.T) {
	spec := checkoutSpec()
	spec.Match.Prefix = "/slow/"
	spec.SLO = &v1alpha1.SLOSpec{Objectives: []v1alpha1.Objective{{Name: "latency", Target: 99, Threshold: "fast"}}}
	if err := r.createRoute(t, "shop", "slow", spec); !apierrors.IsInvalid(err) {
		t.Fatalf("create: got %v, want an Invalid error", err)
	}
}

// noWriteLoop writes the same verdicts again, as the compile after a status write does.
func (r *kubeRig) noWriteLoop(t *testing.T) {
	out, _ := r.current()
	rv := r.route(t, "shop", "checkout").ResourceVersion
	if err := r.src.WriteStatus(r.ctx(t), out.Verdicts); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // room for a write loop to show itself
	if got := r.route(t, "shop", "checkout").ResourceVersion; got != rv {
		t.Errorf("resourceVersion went from %s to %s", rv, got)
	}
}

// deleteRemoves deletes every route.
func (r *kubeRig) deleteRemoves(t *testing.T) {
	for _, name := range []string{"checkout", "checkout-copy", "cart"} {
		r.deleteRoute(t, "shop", name)
	}
	r.eventually(t, "no routes", func() error {
		out, eps := r.current()
		if len(out.Edge.Routes) > 0 || len(eps) > 0 || len(out.Verdicts) > 0 {
			return fmt.Errorf("routes %+v, endpoints %v, verdicts %+v", out.Edge.Routes, eps, out.Verdicts)
		}
		return nil
	})
}

// sinkEndpoints points the EdgeConfig at a sink Service.
func (r *kubeRig) sinkEndpoints(t *testing.T) {
	r.namespace(t, "telemetry")
	r.service(t, "telemetry", "edgetel-sink", "otlp", 4317, 4317)
	r.slice(t, "telemetry", "edgetel-sink-1", "edgetel-sink", "otlp", 4317, kubeEndpoint("10.2.0.1", "zone-b", nil))
	r.createConfig(t, "edge", v1alpha1.EdgeConfigSpec{Sink: v1alpha1.SinkSpec{Service: "telemetry/edgetel-sink", Port: 4317}})
	r.eventually(t, "the cluster-scoped EdgeConfig Accepted=True", func() error {
		u, err := r.dyn.Resource(config.EdgeConfigResource).Get(r.ctx(t), "edge", metav1.GetOptions{})
		if err != nil {
			return err
		}
		var ec v1alpha1.EdgeConfig
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ec); err != nil {
			return err
		}
		return kubeAccepted(ec.Status, metav1.ConditionTrue, config.ReasonAccepted, 1)
	})
	want := map[string][]model.Endpoint{config.SinkClusterName: {{Address: "10.2.0.1", Port: 4317, Zone: "zone-b"}}}
	r.eventually(t, "the sink's endpoints", func() error {
		if _, eps := r.current(); !cmp.Equal(eps, want) {
			return fmt.Errorf("endpoints %v, want %v", eps, want)
		}
		return nil
	})
}

// restart runs a second source through its life cycle.
func (r *kubeRig) restart(t *testing.T) {
	src, err := config.NewKube(config.KubeConfig{RESTConfig: r.env.Config})
	if err != nil {
		t.Fatal(err)
	}
	ctx := r.ctx(t)
	if err := src.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown without Start: %v", err)
	}
	for i := range 2 {
		if err := src.Start(ctx); err != nil {
			t.Fatalf("Start #%d: %v", i+1, err)
		}
		if err := src.Start(ctx); !errors.Is(err, config.ErrKubeStarted) {
			t.Fatalf("Start #%d of a running source: got %v, want ErrKubeStarted", i+1, err)
		}
		select {
		case st := <-src.Updates():
			if len(st.Policies) != 1 || st.Policies[0].Config == nil {
				t.Errorf("policies: got %+v, want the EdgeConfig", st.Policies)
			}
		default:
			t.Fatalf("no state on Updates after Start #%d returned", i+1)
		}
		for range 2 {
			if err := src.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (r *kubeRig) createConfig(t *testing.T, name string, spec v1alpha1.EdgeConfigSpec) {
	t.Helper()
	ec := &v1alpha1.EdgeConfig{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	u := kubeObject(t, ec, v1alpha1.KindEdgeConfig)
	if _, err := r.dyn.Resource(config.EdgeConfigResource).Create(r.ctx(t), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// modelRoute returns the route of the last compiled model, or nil.
func (r *kubeRig) modelRoute(name string) *model.Route {
	out, _ := r.current()
	return out.Edge.Route(name)
}

// routeEndpoints returns nil once the route is in the model with the endpoints want.
func (r *kubeRig) routeEndpoints(route string, want []model.Endpoint) error {
	out, eps := r.current()
	rt := out.Edge.Route(route)
	if rt == nil {
		return fmt.Errorf("no route %s in the model; verdicts %+v", route, out.Verdicts)
	}
	if diff := cmp.Diff(want, eps[rt.Backend.Cluster]); diff != "" {
		return fmt.Errorf("endpoints of %s (-want +got):\n%s", rt.Backend.Cluster, diff)
	}
	return nil
}

// message returns the route's Accepted condition's message.
func (r *kubeRig) message(t *testing.T, ns, name string) string {
	t.Helper()
	for _, c := range r.route(t, ns, name).Status.Conditions {
		if c.Type == config.ConditionAccepted {
			return c.Message
		}
	}
	return ""
}
