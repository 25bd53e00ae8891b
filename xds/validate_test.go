package xds

import (
	"errors"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgetel/edgetel/model"
)

// testEdge is a small model: one listener, a Kubernetes route and an address route.
func testEdge() *model.Edge {
	return &model.Edge{
		Listeners: []model.Listener{{Name: "http", Address: "0.0.0.0", Port: 10000}},
		Sink:      model.Sink{Host: "127.0.0.1", Port: 4317},
		AccessLog: model.AccessLog{RequestHeaders: []string{"traceparent"}, BufferSize: 16384, FlushInterval: time.Second},
		Routes: []model.Route{
			{Name: "shop/cart", Hosts: []string{"shop.example.com"}, Match: model.Match{Prefix: "/cart/"},
				Backend: model.Backend{Cluster: "ext_127_0_0_1_9003", Host: "127.0.0.1", Port: 9003}, SamplingPercent: 1},
			{Name: "shop/checkout", Hosts: []string{"shop.example.com"}, Match: model.Match{Prefix: "/checkout/", Methods: []string{"POST"}},
				Backend: model.Backend{Cluster: "k8s_shop_checkout_8080", Service: "checkout", Port: 8080}, SamplingPercent: 10},
		},
		DefaultSamplingPercent: 1,
	}
}

// translated translates testEdge, checks that it is valid, and returns a deep copy that a
// test may break.
func translated(t *testing.T) *Resources {
	t.Helper()
	res, err := Translate(testEdge())
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Validate(); err != nil {
		t.Fatalf("the test model does not validate: %v", err)
	}
	c := *res
	c.Listeners = cloneAll(res.Listeners)
	c.Routes = cloneAll(res.Routes)
	c.Clusters = cloneAll(res.Clusters)
	c.Endpoints = cloneAll(res.Endpoints)
	return &c
}

func cloneAll[T proto.Message](ms []T) []T {
	out := make([]T, len(ms))
	for i, m := range ms {
		out[i] = proto.Clone(m).(T)
	}
	return out
}

// editHCM unpacks the connection manager of the first listener, lets edit change it and
// packs it back.
func editHCM(t *testing.T, r *Resources, edit func(*hcmv3.HttpConnectionManager)) {
	t.Helper()
	f := r.Listeners[0].FilterChains[0].Filters[0]
	hcm := &hcmv3.HttpConnectionManager{}
	if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	edit(hcm)
	a, err := anypb.New(hcm)
	if err != nil {
		t.Fatal(err)
	}
	f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
}

func firstRoute(r *Resources) *routev3.Route { return r.Routes[0].VirtualHosts[0].Routes[0] }

func TestValidateCatchesAnInvalidTypedConfigThatValidateAllMisses(t *testing.T) {
	r := translated(t)
	editHCM(t, r, func(h *hcmv3.HttpConnectionManager) {
		h.CodecType = hcmv3.HttpConnectionManager_CodecType(42) // not a defined enum value
		h.StatPrefix = ""                                       // min_len 1
	})
	if err := r.Listeners[0].ValidateAll(); err != nil {
		t.Fatalf("the listener's own ValidateAll should not look inside the Any, but says: %v", err)
	}
	err := r.Validate()
	if !errors.Is(err, ErrInvalidTypedConfig) {
		t.Fatalf("Validate = %v, want ErrInvalidTypedConfig", err)
	}
	for _, want := range []string{`listener "edge_http"`, "filter_chains[0].filters[0].typed_config", "CodecType", "StatPrefix"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, r *Resources)
		want   error
		says   string
	}{
		{"a translated model is valid", func(*testing.T, *Resources) {}, nil, ""},
		{"a route to a cluster that does not exist is refused", func(_ *testing.T, r *Resources) {
			firstRoute(r).GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "nowhere"}
		}, ErrUnknownCluster, `sends to cluster "nowhere"`},
		{"a listener that loads a missing route configuration is refused", func(t *testing.T, r *Resources) {
			editHCM(t, r, func(h *hcmv3.HttpConnectionManager) { h.GetRds().RouteConfigName = "gone" })
		}, ErrUnknownRouteConfig, `"gone"`},
		{"an access log that streams elsewhere than the sink is refused", func(t *testing.T, r *Resources) {
			editHCM(t, r, func(h *hcmv3.HttpConnectionManager) {
				cfg := &grpcalsv3.HttpGrpcAccessLogConfig{}
				_ = h.AccessLog[0].GetTypedConfig().UnmarshalTo(cfg)
				cfg.CommonConfig.GrpcService.GetEnvoyGrpc().ClusterName = "ext_127_0_0_1_9003"
				h.AccessLog[0].GetTypedConfig().Value, _ = proto.Marshal(cfg)
			})
		}, ErrUnknownCluster, "access log"},
		{"telemetry without a sink cluster is refused", func(_ *testing.T, r *Resources) {
			r.Clusters = deleteNamed(r.Clusters, SinkCluster)
		}, ErrUnknownCluster, "tracer"},
		{"an invalid message inside an Any inside an Any is found", func(t *testing.T, r *Resources) {
			editHCM(t, r, func(h *hcmv3.HttpConnectionManager) {
				cfg := &grpcalsv3.HttpGrpcAccessLogConfig{}
				_ = h.AccessLog[0].GetTypedConfig().UnmarshalTo(cfg)
				cfg.CommonConfig.LogName = "" // min_len 1
				h.AccessLog[0].GetTypedConfig().Value, _ = proto.Marshal(cfg)
			})
		}, ErrInvalidTypedConfig, "access_log[0].typed_config"},
		{"a typed_config of a type nobody registered is refused", func(t *testing.T, r *Resources) {
			editHCM(t, r, func(h *hcmv3.HttpConnectionManager) {
				h.HttpFilters[0].GetTypedConfig().TypeUrl = "type.googleapis.com/example.NoSuchFilter"
			})
		}, ErrInvalidTypedConfig, "example.NoSuchFilter"},
		{"a typed_config whose bytes are of another type is refused", func(t *testing.T, r *Resources) {
			editHCM(t, r, func(h *hcmv3.HttpConnectionManager) {
				other, _ := anypb.New(&grpcalsv3.HttpGrpcAccessLogConfig{AdditionalRequestHeadersToLog: []string{"x"}})
				h.HttpFilters[0].GetTypedConfig().Value = other.Value
			})
		}, ErrInvalidTypedConfig, "fields that its type does not have"},
		{"a resource that breaks its own rules is refused", func(_ *testing.T, r *Resources) {
			r.Clusters[0].ConnectTimeout = durationpb.New(-time.Second)
		}, ErrInvalidResource, "ConnectTimeout"},
		{"a route that breaks its own rules is refused, with where it is", func(_ *testing.T, r *Resources) {
			firstRoute(r).Match.Headers = append(firstRoute(r).Match.Headers, &routev3.HeaderMatcher{Name: "bad\nheader"})
		}, ErrInvalidResource, `route "shop/checkout" in virtual host "shop_example_com" of route configuration "edge_http"`},
		{"an EDS cluster that no assignment will reach is refused", func(_ *testing.T, r *Resources) {
			r.externalEDS = nil
		}, ErrNoEndpoints, "k8s_shop_checkout_8080"},
		{"an assignment for no EDS cluster is refused", func(_ *testing.T, r *Resources) {
			r.Endpoints = append(r.Endpoints, EndpointsFor("ext_127_0_0_1_9003", nil))
		}, ErrNoEndpoints, "belongs to no EDS cluster"},
		{"two clusters of one name are refused", func(_ *testing.T, r *Resources) {
			r.Clusters = append(r.Clusters, proto.Clone(r.Clusters[0]).(*clusterv3.Cluster))
		}, ErrDuplicate, "cluster"},
		{"two virtual hosts that share a domain are refused", func(_ *testing.T, r *Resources) {
			vh := proto.Clone(r.Routes[0].VirtualHosts[0]).(*routev3.VirtualHost)
			vh.Name = "other"
			r.Routes[0].VirtualHosts = append(r.Routes[0].VirtualHosts, vh)
		}, ErrDuplicate, `domain in route configuration "edge_http": "shop.example.com"`},
		{"an assignment given with the resources is enough for an EDS cluster", func(_ *testing.T, r *Resources) {
			r.externalEDS = nil
			r.Endpoints = []*endpointv3.ClusterLoadAssignment{EndpointsFor("k8s_shop_checkout_8080", nil)}
		}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := translated(t)
			tt.break_(t, r)
			err := r.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Validate = %v, want it to say %q", err, tt.says)
			}
		})
	}
}

func deleteNamed(cs []*clusterv3.Cluster, name string) []*clusterv3.Cluster {
	var out []*clusterv3.Cluster
	for _, c := range cs {
		if c.Name != name {
			out = append(out, c)
		}
	}
	return out
}

func TestATranslatorRevalidatesOnlyWhatChanged(t *testing.T) {
	tr := NewTranslator()
	e := testEdge()
	first, err := tr.Translate(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Validate(); err != nil {
		t.Fatal(err)
	}
	// The same model again: every route and backend cluster is known valid.
	again, _ := tr.Translate(e)
	for _, rt := range again.Routes[0].VirtualHosts[0].Routes {
		if !again.checked.has(rt) {
			t.Errorf("route %q is validated again though it did not change", rt.Name)
		}
	}
	// A changed route is a new message, checked anew: here one Envoy refuses.
	changed := testEdge()
	changed.Routes[0].Match.Headers = []model.HeaderMatch{{Name: "bad\nheader", Present: true}}
	res, err := tr.Translate(changed)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Validate(); !errors.Is(err, ErrInvalidResource) || !strings.Contains(err.Error(), "shop/cart") {
		t.Fatalf("Validate = %v, want the changed route refused", err)
	}
	if len(tr.c.routes) != 2 {
		t.Errorf("the Translator caches %d routes, want 2", len(tr.c.routes))
	}
}

func TestATranslatorGivesWhatTranslateGives(t *testing.T) {
	tr := NewTranslator()
	e := benchEdgeSized(50)
	for range 2 {
		got, err := tr.Translate(e)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Translate(e)
		for i := range want.Routes {
			if !proto.Equal(got.Routes[i], want.Routes[i]) {
				t.Fatalf("route configuration %q differs from Translate's", want.Routes[i].Name)
			}
		}
		if len(got.Clusters) != len(want.Clusters) {
			t.Fatalf("%d clusters, Translate gives %d", len(got.Clusters), len(want.Clusters))
		}
		for i := range want.Clusters {
			if !proto.Equal(got.Clusters[i], want.Clusters[i]) {
				t.Fatalf("cluster %q differs from Translate's", want.Clusters[i].Name)
			}
		}
	}
}
