package kubetest

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

func TestStartServesTheEdgetelCRDs(t *testing.T) {
	env := Start(t, Options{})
	crds, err := readCRDs(ModuleRoot(t) + "/deploy/crds")
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != 2 {
		t.Errorf("deploy/crds has %d CRDs, want EdgeRoute and EdgeConfig", len(crds))
	}
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []string{"edgeroutes", "edgeconfigs"} {
		gvr := schema.GroupVersionResource{Group: "edgetel.io", Version: "v1alpha1", Resource: res}
		if _, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{}); err != nil {
			t.Errorf("list %s: %v", res, err)
		}
	}
	if env.Config.CAData == nil || env.Config.BearerToken == "" {
		t.Errorf("config lacks the CA or the token: %+v", env.Config)
	}
}
