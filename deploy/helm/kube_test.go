package helm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	sotw "github.com/envoyproxy/go-control-plane/pkg/client/sotw/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/internal/kubetest"
	"github.com/edgetel/edgetel/internal/testenv"
	"github.com/edgetel/edgetel/xds"
)

// installSets are the values of the test's helm install: the chart's example EdgeRoute, and
// the Prometheus Operator objects, whose CRDs the API server has.
var installSets = []string{"exampleRoute.enabled=true", "monitoring.enabled=true"}

// TestChartOnAPIServer runs the chart against a real kube-apiserver, one for all subtests
// (it takes seconds to start): every object it renders, and every example, passes a
// server-side dry run; then `helm install` puts the chart in, and the control plane, run here
// against that API server as `edgetel xds --kubernetes` runs, accepts the example EdgeRoute
// and serves its route to an ADS client.
func TestChartOnAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver, runs helm")
	}
	helm := testenv.Tool(t, "helm")
	promCRDs := filepath.Join(schemaDir(t), "crds")
	env := kubetest.Start(t, kubetest.Options{CRDDirs: []string{filepath.Join("..", "crds"), promCRDs}})
	c := newKubeClients(t, env)
	for _, ns := range []string{"edgetel", "edge"} {
		c.namespace(t, ns)
	}
	c.waitForServiceCIDR(t)

	t.Run("every rendered object passes a server-side dry run", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			sets []string
		}{
			{"default values", nil},
			{"every optional part on", nonDefaultSets},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := run(t, ".", helm, append([]string{"template", "edge", chartDir, "--namespace", "edgetel", "--include-crds"},
					setArgs(tc.sets)...)...)
				dryRunAll(t, c, decodeObjects(t, out))
			})
		}
		t.Run("deploy/examples", func(t *testing.T) {
			dryRunAll(t, c, exampleObjects(t))
		})
		// The control: were the dry run lax, every case above would pass as well. (Server-side
		// apply refuses a field its schema lacks even before strict field validation would.)
		t.Run("a misplaced field is refused", func(t *testing.T) {
			for _, doc := range misplacedFields {
				err := c.apply(c.ctx(t), decodeObjects(t, []byte(doc))[0], true)
				if err == nil || !strings.Contains(err.Error(), "field not declared in schema") {
					t.Errorf("the dry run of a misplaced field: %v, want it refused as not declared in the schema\n%s", err, doc)
				}
			}
		})
	})

	t.Run("helm install, then the control plane accepts and serves the example route", func(t *testing.T) {
		helmInstall(t, c, helm)
		// The example Envoy fleet's EdgeConfig: its listener is the one the route lands on.
		for _, obj := range exampleObjects(t) {
			if obj.GetKind() == "EdgeConfig" {
				if err := c.apply(c.ctx(t), obj, false); err != nil {
					t.Fatal(err)
				}
			}
		}
		srv := startControlPlane(t, env)
		eventually(t, "the example EdgeRoute is Accepted", func() error {
			u, err := c.dyn.Resource(config.EdgeRouteResource).Namespace("edgetel").Get(c.ctx(t), "example", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if s := condition(u, config.ConditionAccepted); s != "True" {
				return fmt.Errorf("condition %s is %q: %v", config.ConditionAccepted, s, u.Object["status"])
			}
			return nil
		})
		checkServedRoute(t, srv, "edgetel/example", "shop.example.com", "/catalog/")
	})
}

// dryRunAll server-side applies every object as a dry run, and fails t for each the API
// server refuses.
func dryRunAll(t *testing.T, c *kubeClients, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, obj := range objs {
		if err := c.apply(c.ctx(t), obj, true); err != nil {
			t.Errorf("%s %s/%s: %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
	t.Logf("%d objects accepted", len(objs))
}

// helmInstall installs the chart as release edge in namespace edgetel, with helm's own state
// kept out of the home directory.
func helmInstall(t *testing.T, c *kubeClients, helm string) {
	t.Helper()
	home := t.TempDir()
	for _, v := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		t.Setenv(v, filepath.Join(home, v))
	}
	// Without --wait: no controller runs, so no pod ever becomes ready.
	args := append([]string{"install", "edge", chartDir, "--namespace", "edgetel", "--kubeconfig", c.writeKubeconfig(t)},
		setArgs(installSets)...)
	run(t, ".", helm, args...)
	for _, o := range []struct {
		res  schema.GroupVersionResource
		name string
	}{
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "edge-edgetel-xds"},
		{config.EdgeRouteResource, "example"},
		{schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}, "edge-edgetel"},
	} {
		if _, err := c.dyn.Resource(o.res).Namespace("edgetel").Get(c.ctx(t), o.name, metav1.GetOptions{}); err != nil {
			t.Errorf("after helm install: %s %s: %v", o.res.Resource, o.name, err)
		}
	}
}

// startControlPlane wires the Kubernetes source, the policy store and the xDS server as
// `edgetel xds --kubernetes` does (xds/featuretest's kube test does the same).
func startControlPlane(t *testing.T, env *kubetest.Env) *xds.Server {
	t.Helper()
	srv, err := xds.NewServer(xds.Config{ListenAddress: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), kubeWait)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	k, err := config.NewKube(config.KubeConfig{RESTConfig: env.Config, FieldManager: fieldManager})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Shutdown(context.Background()) })
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.Run(runCtx, config.NewStore(config.ApplierFunc(srv.PublishEdge)), srv, nil)
	}()
	t.Cleanup(func() { stop(); <-done })
	return srv
}

// checkServedRoute asks the server over ADS, as go-control-plane's client does, until a
// route of that name for the host and prefix is served.
func checkServedRoute(t *testing.T, srv *xds.Server, name, host, prefix string) {
	t.Helper()
	conn, err := grpc.NewClient(srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), kubeWait)
	defer cancel()
	client := sotw.NewADSClient(ctx, &corev3.Node{Id: "edge-envoy-test", UserAgentName: "envoy"}, resource.RouteType)
	if err := client.InitConnect(conn); err != nil {
		t.Fatal(err)
	}
	var served []string
	for {
		resp, err := fetch(ctx, client)
		if err != nil {
			t.Fatalf("route %s for %s%s not served (served: %v): %v", name, host, prefix, served, err)
		}
		served = served[:0]
		for _, a := range resp.Resources {
			var rc routev3.RouteConfiguration
			if err := a.UnmarshalTo(&rc); err != nil {
				t.Fatal(err)
			}
			for _, vh := range rc.GetVirtualHosts() {
				for _, r := range vh.GetRoutes() {
					served = append(served, rc.GetName()+": "+r.GetName())
					if r.GetName() == name && slices.Contains(vh.GetDomains(), host) && r.GetMatch().GetPrefix() == prefix {
						t.Logf("served in route configuration %s: %s for %v%s", rc.GetName(), name, vh.GetDomains(), prefix)
						return
					}
				}
			}
		}
		if err := client.Ack(); err != nil {
			t.Fatal(err)
		}
	}
}

// fetch waits for the client's next response until ctx ends: Fetch itself has no deadline.
func fetch(ctx context.Context, c sotw.ADSClient) (*sotw.Response, error) {
	type result struct {
		r   *sotw.Response
		err error
	}
	got := make(chan result, 1)
	go func() {
		r, err := c.Fetch()
		got <- result{r, err}
	}()
	select {
	case r := <-got:
		return r.r, r.err
	case <-ctx.Done():
		return nil, errors.New("no response in time")
	}
}
