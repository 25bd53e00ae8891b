package featuretest

import (
	"context"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/kubetest"
)

// TestTheServedSnapshotFollowsKubernetes wires a real API server, the Kubernetes source, the
// policy store and the xDS server as `edgetel xds --kubernetes` does, and asserts what an
// ADS client is served: routes and endpoints follow the objects, an invalid EdgeRoute gets
// Accepted=False and changes nothing served, and a deleted route leaves the snapshot.
func TestTheServedSnapshotFollowsKubernetes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	kenv := kubetest.Start(t, kubetest.Options{})
	e := newEnv(t)
	k, err := config.NewKube(config.KubeConfig{RESTConfig: kenv.Config})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Shutdown(context.Background()) })
	store := config.NewStore(config.ApplierFunc(e.srv.PublishEdge))
	go k.Run(ctx, store, e.srv, nil)

	c := kubeClients(t, kenv)
	c.create(ctx, t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})
	c.route(ctx, t, "checkout", "/checkout/")
	c.serviceWithEndpoints(ctx, t, "checkout", "10.3.0.7")

	const cluster = "k8s_shop_checkout_8080"
	eventually(t, "the route and its endpoint are served", func() bool {
		return slices.Contains(e.servedRoutes(t), "shop/checkout") && slices.Contains(e.servedEndpoints(t, cluster), "10.3.0.7:8080")
	})

	version := e.srv.Version()
	bad := c.route(ctx, t, "broken", "no-slash")
	eventually(t, "the invalid route is Accepted=False", func() bool {
		return acceptedStatus(c.get(ctx, t, bad)) == "False"
	})
	if got := e.srv.Version(); got != version {
		t.Errorf("an invalid EdgeRoute changed the served configuration: version %s, was %s", got, version)
	}

	if err := c.dyn.Resource(config.EdgeRouteResource).Namespace("shop").Delete(ctx, "checkout", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted route leaves the snapshot", func() bool {
		return !slices.Contains(e.servedRoutes(t), "shop/checkout")
	})
}

type clients struct {
	dyn  dynamic.Interface
	core kubernetes.Interface
}

func kubeClients(t *testing.T, kenv *kubetest.Env) clients {
	dyn, err := dynamic.NewForConfig(kenv.Config)
	if err != nil {
		t.Fatal(err)
	}
	core, err := kubernetes.NewForConfig(kenv.Config)
	if err != nil {
		t.Fatal(err)
	}
	return clients{dyn: dyn, core: core}
}

func (c clients) create(ctx context.Context, t *testing.T, ns *corev1.Namespace) {
	if _, err := c.core.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// route creates an EdgeRoute in shop for host shop.example.com to Service checkout:8080.
func (c clients) route(ctx context.Context, t *testing.T, name, prefix string) *unstructured.Unstructured {
	er := &v1alpha1.EdgeRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec: v1alpha1.EdgeRouteSpec{Hosts: []string{"shop.example.com"}, Match: v1alpha1.RouteMatch{Prefix: prefix},
			Backend: v1alpha1.Backend{Service: "checkout", Port: 8080}}}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(er)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(v1alpha1.APIVersion)
	u.SetKind(v1alpha1.KindEdgeRoute)
	out, err := c.dyn.Resource(config.EdgeRouteResource).Namespace("shop").Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (c clients) get(ctx context.Context, t *testing.T, u *unstructured.Unstructured) *unstructured.Unstructured {
	out, err := c.dyn.Resource(config.EdgeRouteResource).Namespace(u.GetNamespace()).Get(ctx, u.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// serviceWithEndpoints creates a headless Service with port 8080 and an EndpointSlice with
// one ready address, as the EndpointSlice controller would.
func (c clients) serviceWithEndpoints(ctx context.Context, t *testing.T, name, addr string) {
	port, portName, proto := int32(8080), "http", corev1.ProtocolTCP
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}, Spec: corev1.ServiceSpec{
		ClusterIP: corev1.ClusterIPNone,
		Ports:     []corev1.ServicePort{{Name: portName, Port: port, TargetPort: intstr.FromInt32(port)}}}}
	if _, err := c.core.CoreV1().Services("shop").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "shop", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
	}
	if _, err := c.core.DiscoveryV1().EndpointSlices("shop").Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func acceptedStatus(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == config.ConditionAccepted {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// servedRoutes asks a new ADS stream for the edge's route configuration and returns the
// names of its routes.
func (e *env) servedRoutes(t *testing.T) []string {
	s := e.stream("kube-test")
	defer s.close()
	var names []string
	for _, rc := range unpack[*routev3.RouteConfiguration](t, s.subscribe(resource.RouteType, "edge_http").GetResources()) {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				names = append(names, r.GetName())
			}
		}
	}
	return names
}

// servedEndpoints asks a new ADS stream for a cluster's assignment: host:port of each.
func (e *env) servedEndpoints(t *testing.T, cluster string) []string {
	s := e.stream("kube-test")
	defer s.close()
	var out []string
	for _, cla := range unpack[*endpointv3.ClusterLoadAssignment](t, s.subscribe(resource.EndpointType, cluster).GetResources()) {
		for _, l := range cla.GetEndpoints() {
			for _, lb := range l.GetLbEndpoints() {
				a := lb.GetEndpoint().GetAddress().GetSocketAddress()
				out = append(out, net.JoinHostPort(a.GetAddress(), strconv.Itoa(int(a.GetPortValue()))))
			}
		}
	}
	return out
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("not within 30s: %s", what)
}
