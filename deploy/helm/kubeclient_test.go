package helm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/edgetel/edgetel/internal/kubetest"
	"github.com/edgetel/edgetel/internal/testenv"
)

// kubeWait bounds every wait for the API server or the control plane.
const kubeWait = 30 * time.Second

// fieldManager names the tests' writes.
const fieldManager = "edgetel-chart-test"

// kubeClients talks to a kubetest API server, mapping any kind to its resource.
type kubeClients struct {
	env    *kubetest.Env
	dyn    dynamic.Interface
	core   kubernetes.Interface
	mapper meta.ResettableRESTMapper
}

func newKubeClients(t *testing.T, env *kubetest.Env) *kubeClients {
	t.Helper()
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	core, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return &kubeClients{env: env, dyn: dyn, core: core, mapper: mapper}
}

func (c *kubeClients) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), kubeWait)
	t.Cleanup(cancel)
	return ctx
}

func (c *kubeClients) namespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.core.CoreV1().Namespaces().Create(c.ctx(t), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// resource maps an object to its resource client, namespaced as its kind is.
func (c *kubeClients) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return c.dyn.Resource(m.Resource), nil
}

// apply server-side applies obj, with strict field validation (an unknown field is an
// error, not a warning), and only as a dry run when dryRun is set.
func (c *kubeClients) apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) error {
	res, err := c.resource(obj)
	if err != nil {
		return err
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: fieldManager, Force: new(true), FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = res.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
	return err
}

// waitForServiceCIDR waits until the API server can allocate ClusterIPs: it creates its
// default ServiceCIDR a moment after it is ready, and a ClusterIP Service fails until then.
func (c *kubeClients) waitForServiceCIDR(t *testing.T) {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "servicecidrs"}
	eventually(t, "the default ServiceCIDR is ready", func() error {
		u, err := c.dyn.Resource(gvr).Get(c.ctx(t), "kubernetes", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if s := condition(u, "Ready"); s != "True" {
			return fmt.Errorf("condition Ready is %q", s)
		}
		return nil
	})
}

// writeKubeconfig writes a kubeconfig for the admin of the API server, for helm.
func (c *kubeClients) writeKubeconfig(t *testing.T) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: c.env.Config.Host, CertificateAuthorityData: c.env.Config.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: c.env.Config.BearerToken}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// decodeObjects parses every document of a multi-document YAML stream.
func decodeObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatalf("%v\n%s", err, head(string(doc)))
		}
		if m != nil {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// exampleObjects parses every YAML file under deploy/examples.
func exampleObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	err := filepath.WalkDir(examplesDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out = append(out, decodeObjects(t, b)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("deploy/examples holds no objects")
	}
	return out
}

// condition returns the status of the object's condition of that type, or "".
func condition(u *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// eventually calls f until it returns nil, failing t with f's last error after kubeWait.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	testenv.Eventually(t, kubeWait, what, f)
}
