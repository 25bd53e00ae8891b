package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"

	"github.com/edgetel/edgetel/model"
)

func kubeTestService(ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "checkout"},
		Spec: corev1.ServiceSpec{Ports: ports}}
}

func kubeTestSlice(typ discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{AddressType: typ, Ports: ports, Endpoints: eps}
}

func kubeTestPort(name string, port int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: &name, Port: &port}
}

func kubeTestEndpoint(addr string, ready *bool, zone string) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
	if zone != "" {
		e.Zone = &zone
	}
	return e
}

func TestKubeEndpointsAreTheReadyAddressesOnTheSlicePort(t *testing.T) {
	yes, no := true, false
	http := corev1.ServicePort{Name: "http", Port: 8080, TargetPort: intstr.FromString("web")}
	cases := []struct {
		name   string
		svc    *corev1.Service
		slices []*discoveryv1.EndpointSlice
		want   map[string][]model.Endpoint
	}{{
		name: "ready endpoints of all slices are listed once each, sorted, on the slice's port",
		svc:  kubeTestService(http),
		slices: []*discoveryv1.EndpointSlice{
			kubeTestSlice(discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{kubeTestPort("http", 9090)},
				kubeTestEndpoint("10.0.0.2", &yes, "b"), kubeTestEndpoint("10.0.0.1", nil, "a"), kubeTestEndpoint("10.0.0.3", &no, "a")),
			kubeTestSlice(discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{kubeTestPort("http", 9090)},
				kubeTestEndpoint("10.0.0.2", &yes, "b")),
		},
		want: map[string][]model.Endpoint{"shop/checkout:8080": {
			{Address: "10.0.0.1", Port: 9090, Zone: "a"}, {Address: "10.0.0.2", Port: 9090, Zone: "b"}}},
	}, {
		name: "each Service port takes the slice port of its name",
		svc:  kubeTestService(http, corev1.ServicePort{Name: "admin", Port: 8081, TargetPort: intstr.FromInt32(9091)}),
		slices: []*discoveryv1.EndpointSlice{kubeTestSlice(discoveryv1.AddressTypeIPv6,
			[]discoveryv1.EndpointPort{kubeTestPort("admin", 9091), kubeTestPort("http", 9090)},
			kubeTestEndpoint("fd00::1", nil, ""))},
		want: map[string][]model.Endpoint{
			"shop/checkout:8080": {{Address: "fd00::1", Port: 9090}},
			"shop/checkout:8081": {{Address: "fd00::1", Port: 9091}},
		},
	}, {
		name: "a slice port without a number means the Service's numeric target port",
		svc:  kubeTestService(corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(8000)}),
		slices: []*discoveryv1.EndpointSlice{kubeTestSlice(discoveryv1.AddressTypeIPv4,
			[]discoveryv1.EndpointPort{{Name: new(string)}}, kubeTestEndpoint("10.0.0.1", nil, ""))},
		want: map[string][]model.Endpoint{"shop/checkout:80": {{Address: "10.0.0.1", Port: 8000}}},
	}, {
		name: "UDP ports, FQDN slices and ports without ready endpoints have no entry",
		svc:  kubeTestService(http, corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}),
		slices: []*discoveryv1.EndpointSlice{
			kubeTestSlice(discoveryv1.AddressTypeFQDN, []discoveryv1.EndpointPort{kubeTestPort("http", 9090)},
				kubeTestEndpoint("checkout.example.com", nil, "")),
			kubeTestSlice(discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{kubeTestPort("dns", 53)},
				kubeTestEndpoint("10.0.0.1", nil, "")),
		},
		want: map[string][]model.Endpoint{},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string][]model.Endpoint{}
			kubeServiceEndpoints(got, c.svc, c.slices)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEndpointsForModelKeysEveryKubernetesClusterAndTheSink(t *testing.T) {
	route := func(ns, name, svc string, port uint32) model.Route {
		return model.Route{Name: ns + "/" + name, Namespace: ns, Backend: model.Backend{
			Cluster: clusterName("k8s", ns, svc, port), Service: svc, Port: port}}
	}
	e := &model.Edge{
		Routes: []model.Route{
			route("shop", "checkout", "checkout", 8080),
			route("shop", "checkout-v2", "checkout", 8080),
			route("shop", "cart", "cart", 80),
			{Name: "ext/api", Namespace: "ext", Backend: model.Backend{Cluster: "ext_api_443", Host: "api", Port: 443}},
		},
		Sink: model.Sink{Service: "telemetry/edgetel-sink", Port: 4317},
	}
	ep := []model.Endpoint{{Address: "10.0.0.1", Port: 9090}}
	sink := []model.Endpoint{{Address: "10.0.0.9", Port: 4317}}
	all := map[string][]model.Endpoint{
		"shop/checkout:8080": ep, "other/checkout:8080": sink, "telemetry/edgetel-sink:4317": sink,
	}
	want := map[string][]model.Endpoint{
		"k8s_shop_checkout_8080": ep,
		"k8s_shop_cart_80":       {},
		SinkClusterName:          sink,
	}
	if diff := cmp.Diff(want, EndpointsForModel(e, all)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestKubeConditionSaysTheVerdict(t *testing.T) {
	src := model.Source{Kind: "EdgeRoute", Namespace: "shop", Name: "checkout", Generation: 4}
	invalid := &Problem{Source: src, Field: "spec.match", Message: "set exactly one", Err: ErrInvalid}
	conflict := &Problem{Source: src, Field: "spec.match", Message: "served by shop/a", Err: ErrConflict}
	cases := []struct {
		name string
		v    Verdict
		want metav1.Condition
	}{
		{"an accepted policy is True", Verdict{Source: src, Accepted: true},
			metav1.Condition{Status: metav1.ConditionTrue, Reason: ReasonAccepted, Message: "The policy is in force."}},
		{"an invalid policy is False, Invalid, with the problem", Verdict{Source: src, Problems: invalid},
			metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonInvalid, Message: invalid.Error()}},
		{"a conflict is Conflicted", Verdict{Source: src, Problems: conflict},
			metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonConflicted, Message: conflict.Error()}},
		{"Invalid wins over Conflicted", Verdict{Source: src, Problems: errors.Join(conflict, invalid)},
			metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonInvalid, Message: conflict.Error() + "\n" + invalid.Error()}},
		{"a stale policy says its last version stays", Verdict{Source: src, Problems: invalid, Stale: true},
			metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonInvalid, Message: invalid.Error() + "\nIts last accepted version stays in force."}},
		{"a problem without a sentinel is Rejected", Verdict{Source: src, Problems: fmt.Errorf("boom")},
			metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonRejected, Message: "boom"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.want.Type, c.want.ObservedGeneration = ConditionAccepted, 4
			if diff := cmp.Diff(c.want, kubeCondition(c.v)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a huge message is cut to the API's limit", func(t *testing.T) {
		c := kubeCondition(Verdict{Source: src, Problems: errors.New(strings.Repeat("é", kubeMaxMessage))})
		if len(c.Message) > kubeMaxMessage || !strings.HasSuffix(c.Message, "...") {
			t.Errorf("message of %d bytes ending %q", len(c.Message), c.Message[len(c.Message)-5:])
		}
	})
}

func TestKubeConfigNeedsARESTConfigAndAValidNamespace(t *testing.T) {
	for _, cfg := range []KubeConfig{{}, {RESTConfig: &rest.Config{}, Namespace: "Not_A_Namespace"}, {RESTConfig: &rest.Config{}, Resync: -1}} {
		if _, err := NewKube(cfg); !errors.Is(err, ErrKubeConfig) {
			t.Errorf("NewKube(%+v): got %v, want ErrKubeConfig", cfg, err)
		}
	}
}

func TestKubeStartWithoutAnAPIServerEndsWithErrKubeSync(t *testing.T) {
	k, err := NewKube(KubeConfig{RESTConfig: &rest.Config{Host: "http://127.0.0.1:1", Timeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := k.Start(ctx); !errors.Is(err, ErrKubeSync) {
		t.Fatalf("Start: got %v, want ErrKubeSync", err)
	}
	if err := k.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after a failed Start: %v", err)
	}
}

func TestKubeSecretIsACertificateOnlyAsAKubernetesTLSSecretWithBothKeys(t *testing.T) {
	var logged strings.Builder
	k := &Kube{log: slog.New(slog.NewTextHandler(&logged, nil))}
	s := newKubeSecrets(&kubeRun{k: k})
	tls := map[string][]byte{corev1.TLSCertKey: []byte("CERT-BYTES"), corev1.TLSPrivateKeyKey: []byte("KEY-BYTES")}
	tests := []struct {
		name   string
		typ    corev1.SecretType
		data   map[string][]byte
		usable bool
	}{
		{"a kubernetes.io/tls Secret with tls.crt and tls.key is one", corev1.SecretTypeTLS, tls, true},
		{"an Opaque Secret with the same keys is not", corev1.SecretTypeOpaque, tls, false},
		{"a kubernetes.io/tls Secret without tls.key is not", corev1.SecretTypeTLS, map[string][]byte{corev1.TLSCertKey: []byte("CERT-BYTES")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "certs", Name: "c", ResourceVersion: tt.name}, Type: tt.typ, Data: tt.data}
			got, ok := s.certificate("certs/c", sec)
			if ok != tt.usable || ok && (string(got.CertChain) != "CERT-BYTES" || string(got.PrivateKey) != "KEY-BYTES") {
				t.Errorf("certificate = %v, %t; want usable=%t", got, ok, tt.usable)
			}
		})
	}
	if strings.Contains(logged.String(), "BYTES") || !strings.Contains(logged.String(), "secret=certs/c") {
		t.Errorf("the log should name the unusable Secrets and never hold their contents:\n%s", logged.String())
	}
}
