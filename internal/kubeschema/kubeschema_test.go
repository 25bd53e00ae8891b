package kubeschema

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFileName(t *testing.T) {
	for _, tc := range []struct {
		name, group, version, kind, want string
	}{
		{"a core kind has no group", "", "v1", "Service", "service-v1.json"},
		{"a group is named by its first label", "apps", "v1", "Deployment", "deployment-apps-v1.json"},
		{"a dotted group is cut at the first dot", "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterrole-rbac-v1.json"},
		{"a custom kind is named as kubeconform looks it up", "edgetel.io", "v1alpha1", "EdgeRoute", "edgeroute-edgetel-v1alpha1.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FileName(tc.group, tc.version, tc.kind); got != tc.want {
				t.Errorf("FileName = %q, want %q", got, tc.want)
			}
		})
	}
}

// swagger is a small spec with what the real one has: a kind, a ref, IntOrString, a
// definition that contains itself, required and optional fields.
const swagger = `{"definitions": {
  "io.k8s.api.demo.v1.Demo": {
    "description": "dropped", "type": "object", "required": ["spec"],
    "properties": {
      "kind": {"type": "string"},
      "spec": {"$ref": "#/definitions/io.k8s.api.demo.v1.Spec"}
    },
    "x-kubernetes-group-version-kind": [{"group": "demo.example.io", "kind": "Demo", "version": "v1"}]
  },
  "io.k8s.api.demo.v1.Spec": {
    "type": "object",
    "properties": {
      "port": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
      "tree": {"$ref": "#/definitions/io.k8s.api.demo.v1.Tree"},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}}
    }
  },
  "io.k8s.api.demo.v1.Tree": {
    "type": "object",
    "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.demo.v1.Tree"}}}
  },
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"}
}}`

const swaggerWant = `{
  "$schema": "http://json-schema.org/schema#",
  "type": "object", "required": ["spec"], "additionalProperties": false,
  "properties": {
    "kind": {"type": ["string", "null"]},
    "spec": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "port": {"anyOf": [{"oneOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "null"}]},
        "tree": {"type": ["object", "null"], "additionalProperties": false,
          "properties": {"children": {"type": ["array", "null"], "items": {"$ref": "#/definitions/io.k8s.api.demo.v1.Tree"}}}},
        "labels": {"type": ["object", "null"], "additionalProperties": {"type": "string"}}
      }
    }
  },
  "definitions": {
    "io.k8s.api.demo.v1.Tree": {"type": "object", "additionalProperties": false,
      "properties": {"children": {"type": ["array", "null"], "items": {"$ref": "#/definitions/io.k8s.api.demo.v1.Tree"}}}}
  }
}`

func TestFromSwaggerInlinesRefsAndRejectsUnknownFields(t *testing.T) {
	got, err := FromSwagger([]byte(swagger), Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got schemas %v, want one for the one kind", keys(got))
	}
	compare(t, got["demo-demo-v1.json"], swaggerWant)
}

func TestFromSwaggerRefusesARefToNothing(t *testing.T) {
	spec := `{"definitions": {"a.v1.A": {"properties": {"b": {"$ref": "#/definitions/missing"}},
		"x-kubernetes-group-version-kind": [{"group": "", "kind": "A", "version": "v1"}]}}}`
	if _, err := FromSwagger([]byte(spec), Options{}); !errors.Is(err, ErrSpec) {
		t.Errorf("err = %v, want ErrSpec", err)
	}
}

const crd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          description: dropped
          type: object
          properties:
            spec:
              type: object
              properties:
                expr: {anyOf: [{type: integer}, {type: string}], x-kubernetes-int-or-string: true}
                note: {type: string, nullable: true}
                raw: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: string}}}
    - name: v0
      served: false
      storage: false
      schema:
        openAPIV3Schema: {type: object}
`

const crdWant = `{
  "$schema": "http://json-schema.org/schema#",
  "type": "object", "additionalProperties": false,
  "properties": {
    "spec": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "expr": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        "note": {"type": ["string", "null"]},
        "raw": {"type": "object", "properties": {"a": {"type": "string"}}}
      }
    }
  }
}`

func TestFromCRDsConvertsServedVersions(t *testing.T) {
	got, err := FromCRDs([]byte(crd), Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got schemas %v, want widget-example-v1.json only (v0 is not served)", keys(got))
	}
	compare(t, got["widget-example-v1.json"], crdWant)
}

func TestFromCRDsRefusesAnotherKind(t *testing.T) {
	if _, err := FromCRDs([]byte("apiVersion: v1\nkind: ConfigMap\n"), Options{}); !errors.Is(err, ErrSpec) {
		t.Errorf("err = %v, want ErrSpec", err)
	}
}

func TestMergeRefusesAKindDefinedTwice(t *testing.T) {
	s := Schemas{"a-v1.json": {}}
	if err := s.Merge(Schemas{"a-v1.json": {}}); !errors.Is(err, ErrSpec) {
		t.Errorf("err = %v, want ErrSpec", err)
	}
}

// compare compares a schema with the JSON it should encode to.
func compare(t *testing.T, got map[string]any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}
}

func keys(s Schemas) []string { return sortedKeys(s) }
