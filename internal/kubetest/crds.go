package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// ErrCRD: a CRD could not be installed or did not become established.
var ErrCRD = errors.New("kubetest: cannot install CRD")

// CRDResource is the CustomResourceDefinition resource; CRDs are handled as unstructured
// objects so that the module need not depend on k8s.io/apiextensions-apiserver.
var CRDResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs installs the CRDs of dir (every *.yaml and *.yml, any number of documents each)
// and waits until they are established; it fails t on any error.
func (e *Env) InstallCRDs(t testing.TB, dir string) {
	t.Helper()
	if err := InstallCRDs(context.Background(), e.Config, dir); err != nil {
		t.Fatal(err)
	}
}

// InstallCRDs creates or updates the CRDs in dir's YAML files, then waits up to CRDTimeout
// until every one is established, its names accepted and its API served.
func InstallCRDs(ctx context.Context, cfg *rest.Config, dir string) error {
	crds, err := readCRDs(dir)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCRD, err)
	}
	res := dyn.Resource(CRDResource)
	for _, crd := range crds {
		if err := apply(ctx, res, crd); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCRD, crd.GetName(), err)
		}
	}
	for _, crd := range crds {
		err := poll(ctx, CRDTimeout, nil, func(ctx context.Context) error {
			got, err := res.Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err != nil {
				return err
			}
			return established(got)
		})
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCRD, crd.GetName(), err)
		}
	}
	return nil
}

func readCRDs(dir string) ([]*unstructured.Unstructured, error) {
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no YAML files in %s", ErrCRD, dir)
	}
	var out []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCRD, err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrCRD, f, err)
			}
			var obj map[string]any
			if err := yaml.Unmarshal(doc, &obj); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrCRD, f, err)
			}
			if obj == nil {
				continue
			}
			u := &unstructured.Unstructured{Object: obj}
			if u.GetKind() != "CustomResourceDefinition" {
				return nil, fmt.Errorf("%w: %s: a %s is not a CRD", ErrCRD, f, u.GetKind())
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// apply creates crd, or replaces the one of the same name.
func apply(ctx context.Context, res dynamic.ResourceInterface, crd *unstructured.Unstructured) error {
	_, err := res.Create(ctx, crd, metav1.CreateOptions{FieldManager: "kubetest"})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	cur, err := res.Get(ctx, crd.GetName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	crd = crd.DeepCopy()
	crd.SetResourceVersion(cur.GetResourceVersion())
	_, err = res.Update(ctx, crd, metav1.UpdateOptions{FieldManager: "kubetest"})
	return err
}

// established returns nil once the CRD's Established and NamesAccepted conditions are True.
func established(crd *unstructured.Unstructured) error {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	want := map[string]bool{"Established": false, "NamesAccepted": false}
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ, _ := m["type"].(string)
		if _, ok := want[typ]; ok && m["status"] == "True" {
			want[typ] = true
		}
	}
	for typ, ok := range want {
		if !ok {
			return fmt.Errorf("condition %s is not True yet", typ)
		}
	}
	return nil
}
