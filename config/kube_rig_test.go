package config_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	discoveryv1client "k8s.io/client-go/kubernetes/typed/discovery/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/kubetest"
	"github.com/edgetel/edgetel/internal/testenv"
	"github.com/edgetel/edgetel/model"
)

// kubeWait bounds every wait for the source to catch up with the API server.
const kubeWait = 20 * time.Second

// kubeRig runs a Kube source against a test API server and does what the wiring in cmd
// does: compile every state with the last good policies, map the endpoints to the model and
// write the verdicts back.
type kubeRig struct {
	env  *kubetest.Env
	dyn  dynamic.Interface
	core corev1client.CoreV1Interface
	disc discoveryv1client.DiscoveryV1Interface
	src  *config.Kube

	mu        sync.Mutex
	out       *config.Output
	endpoints map[string][]model.Endpoint
	secrets   map[string]model.Secret
	statusErr error
	// secretRequests are the method, path and query of every request for Secrets.
	secretRequests []string
}

func newKubeRig(t *testing.T, env *kubetest.Env) *kubeRig {
	t.Helper()
	r := &kubeRig{env: env}
	var err error
	r.dyn = kubeMust(dynamic.NewForConfig(env.Config))
	r.core = kubeMust(corev1client.NewForConfig(env.Config))
	r.disc = kubeMust(discoveryv1client.NewForConfig(env.Config))
	rc := rest.CopyConfig(env.Config)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return secretRecorder{r, rt} })
	r.src, err = config.NewKube(config.KubeConfig{RESTConfig: rc, FieldManager: "edgetel-test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), kubeWait)
	defer cancel()
	if err := r.src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	loopCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.loop(loopCtx)
	}()
	t.Cleanup(func() {
		stop()
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.src.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	r.eventually(t, "the first compile", func() error {
		if out, _ := r.current(); out == nil {
			return errors.New("none yet")
		}
		return nil
	})
	return r
}

func kubeMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (r *kubeRig) loop(ctx context.Context) {
	var lastGood map[string]config.Policy
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-r.src.Updates():
			out := config.Compile(config.Input{Policies: st.Policies, LastGood: lastGood})
			lastGood = out.LastGood
			eps := config.EndpointsForModel(out.Edge, st.Endpoints)
			r.src.KeepSecrets(config.SecretNames(out.Edge))
			// The model before the status: a test that sees a status sees its model.
			r.mu.Lock()
			r.out, r.endpoints, r.secrets = out, eps, st.Secrets
			r.mu.Unlock()
			err := r.src.WriteStatus(ctx, out.Verdicts)
			r.mu.Lock()
			r.statusErr = errors.Join(r.statusErr, err)
			r.mu.Unlock()
		}
	}
}

// secretRecorder records the requests of the source for Secrets.
type secretRecorder struct {
	r  *kubeRig
	rt http.RoundTripper
}

func (s secretRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "/secrets") {
		s.r.mu.Lock()
		s.r.secretRequests = append(s.r.secretRequests, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
		s.r.mu.Unlock()
	}
	return s.rt.RoundTrip(req)
}

// current returns the last compile's output and endpoints.
func (r *kubeRig) current() (*config.Output, map[string][]model.Endpoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out, r.endpoints
}

// eventually calls f until it returns nil, failing the test with f's last error after kubeWait.
func (r *kubeRig) eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	testenv.Eventually(t, kubeWait, what, f)
}

func (r *kubeRig) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), kubeWait)
	t.Cleanup(cancel)
	return ctx
}

func (r *kubeRig) namespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := r.core.Namespaces().Create(r.ctx(t), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createRoute creates an EdgeRoute and returns the API server's error.
func (r *kubeRig) createRoute(t *testing.T, ns, name string, spec v1alpha1.EdgeRouteSpec) error {
	er := &v1alpha1.EdgeRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	_, err := r.dyn.Resource(config.EdgeRouteResource).Namespace(ns).Create(r.ctx(t), kubeObject(t, er, v1alpha1.KindEdgeRoute), metav1.CreateOptions{})
	return err
}

// updateRoute changes an EdgeRoute's spec with edit, retrying when a status write races it.
func (r *kubeRig) updateRoute(t *testing.T, ns, name string, edit func(*v1alpha1.EdgeRouteSpec)) {
	t.Helper()
	res := r.dyn.Resource(config.EdgeRouteResource).Namespace(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		er := r.route(t, ns, name)
		edit(&er.Spec)
		_, err := res.Update(r.ctx(t), kubeObject(t, er, v1alpha1.KindEdgeRoute), metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (r *kubeRig) deleteRoute(t *testing.T, ns, name string) {
	t.Helper()
	if err := r.dyn.Resource(config.EdgeRouteResource).Namespace(ns).Delete(r.ctx(t), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// route reads an EdgeRoute from the API server.
func (r *kubeRig) route(t *testing.T, ns, name string) *v1alpha1.EdgeRoute {
	t.Helper()
	u, err := r.dyn.Resource(config.EdgeRouteResource).Namespace(ns).Get(r.ctx(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var er v1alpha1.EdgeRoute
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &er); err != nil {
		t.Fatal(err)
	}
	return &er
}

func kubeObject(t *testing.T, obj runtime.Object, kind string) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(v1alpha1.APIVersion)
	u.SetKind(kind)
	return u
}

// service creates a headless Service (a ClusterIP would need the IP allocator's ServiceCIDR,
// which the API server creates a moment after it is ready) with one TCP port.
func (r *kubeRig) service(t *testing.T, ns, name, portName string, port, target int32) {
	t.Helper()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{
		ClusterIP: corev1.ClusterIPNone,
		Ports:     []corev1.ServicePort{{Name: portName, Port: port, TargetPort: intstr.FromInt32(target)}},
	}}
	if _, err := r.core.Services(ns).Create(r.ctx(t), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// slice creates or replaces an EndpointSlice of the Service, as the EndpointSlice controller
// would write it.
func (r *kubeRig) slice(t *testing.T, ns, name, service, portName string, port int32, eps ...discoveryv1.Endpoint) {
	t.Helper()
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: service}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: kubePtr(corev1.ProtocolTCP)}},
	}
	cur, err := r.disc.EndpointSlices(ns).Get(r.ctx(t), name, metav1.GetOptions{})
	if err == nil {
		s.ResourceVersion = cur.ResourceVersion
		_, err = r.disc.EndpointSlices(ns).Update(r.ctx(t), s, metav1.UpdateOptions{})
	} else {
		_, err = r.disc.EndpointSlices(ns).Create(r.ctx(t), s, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func kubeEndpoint(addr, zone string, ready *bool) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
	if zone != "" {
		e.Zone = &zone
	}
	return e
}

func kubePtr[T any](v T) *T { return &v }

// kubeAccepted returns nil once the status's Accepted condition has the status and reason and
// describes generation gen.
func kubeAccepted(st v1alpha1.PolicyStatus, status metav1.ConditionStatus, reason string, gen int64) error {
	for _, c := range st.Conditions {
		if c.Type != config.ConditionAccepted {
			continue
		}
		if c.Status != status || c.Reason != reason || c.ObservedGeneration != gen || st.ObservedGeneration != gen {
			return fmt.Errorf("condition is %s/%s for generation %d (status.observedGeneration %d), want %s/%s for %d: %q",
				c.Status, c.Reason, c.ObservedGeneration, st.ObservedGeneration, status, reason, gen, c.Message)
		}
		return nil
	}
	return fmt.Errorf("no %s condition in %+v", config.ConditionAccepted, st)
}
