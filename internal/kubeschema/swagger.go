// Package kubeschema turns Kubernetes OpenAPI into the standalone JSON schemas kubeconform
// validates against, named as kubeconform looks them up (<kind>-<group>-<version>.json), as
// openapi2jsonschema does for github.com/yannh/kubernetes-json-schema: the Kubernetes
// swagger.json (every kind with an x-kubernetes-group-version-kind) and CRDs'
// openAPIV3Schema. The tests cannot download schemas, so hack/build-kubeconform.sh and the
// chart tests generate them with this package.
//
// A schema is standalone: every $ref is inlined, except a ref back into a definition being
// expanded (JSONSchemaProps contains itself), which points into the file's own definitions.
// Strict schemas reject unknown fields (additionalProperties: false wherever properties are
// listed and nothing else is said), which is what catches a misspelled or misplaced key in a
// template. Descriptions are dropped: kubeconform never shows them, and they are most of the
// bytes.
package kubeschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrSpec: the OpenAPI input cannot be read or converted.
var ErrSpec = errors.New("kubeschema: bad OpenAPI input")

// Options of the conversion.
type Options struct {
	// Strict rejects properties a schema does not list (kubeconform's -strict looks for the
	// -strict directory's schemas).
	Strict bool
}

// Schemas maps a kubeconform file name (FileName) to a JSON schema.
type Schemas map[string]map[string]any

// FileName is kubeconform's name for the schema of a kind: the kind and the group's first
// label in lower case, then the version; no group for the core API.
func FileName(group, version, kind string) string {
	name := strings.ToLower(kind)
	if group != "" {
		name += "-" + strings.ToLower(strings.Split(group, ".")[0])
	}
	return name + "-" + strings.ToLower(version) + ".json"
}

const defPrefix = "#/definitions/"

// Well-known definitions whose swagger type is narrower than what the API server reads.
const (
	intOrStringDef = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	quantityDef    = "io.k8s.apimachinery.pkg.api.resource.Quantity"
)

// FromSwagger converts a Kubernetes swagger.json (api/openapi-spec/swagger.json): one schema
// for each group, version and kind of each definition.
func FromSwagger(data []byte, opts Options) (Schemas, error) {
	var spec struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%w: swagger: %w", ErrSpec, err)
	}
	if len(spec.Definitions) == 0 {
		return nil, fmt.Errorf("%w: swagger has no definitions", ErrSpec)
	}
	out := Schemas{}
	for _, name := range sortedKeys(spec.Definitions) {
		def := spec.Definitions[name]
		gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
		if len(gvks) == 0 {
			continue
		}
		x := &expander{defs: spec.Definitions, strict: opts.Strict}
		schema, err := x.root(name)
		if err != nil {
			return nil, err
		}
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			if version == "" || kind == "" {
				return nil, fmt.Errorf("%w: %s: group-version-kind %v", ErrSpec, name, gvk)
			}
			out[FileName(group, version, kind)] = schema
		}
	}
	return out, nil
}

// expander inlines the $refs of one root definition.
type expander struct {
	defs   map[string]map[string]any
	strict bool
	// stack is the definitions being expanded; recursive are those referred to from
	// inside themselves, which go into the root's definitions.
	stack     []string
	recursive map[string]bool
	err       error
}

func (x *expander) root(name string) (map[string]any, error) {
	x.recursive = map[string]bool{}
	s := x.def(name)
	s["$schema"] = "http://json-schema.org/schema#"
	if _, ok := s["type"]; !ok {
		s["type"] = "object"
	}
	// Each recursive definition is expanded on its own stack; that may find more.
	defs := map[string]any{}
	for len(defs) < len(x.recursive) {
		for _, r := range sortedKeys(x.recursive) {
			if _, done := defs[r]; !done {
				x.stack = nil
				defs[r] = x.def(r)
			}
		}
	}
	if len(defs) > 0 {
		s["definitions"] = defs
	}
	return s, x.err
}

// def returns the expansion of a definition, or a local $ref when it is being expanded.
func (x *expander) def(name string) map[string]any {
	switch name {
	case intOrStringDef:
		return intOrString()
	case quantityDef: // "cpu: 1" is as good as "cpu: 1000m"
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
	}
	for _, s := range x.stack {
		if s == name {
			x.recursive[name] = true
			return map[string]any{"$ref": defPrefix + name}
		}
	}
	d, ok := x.defs[name]
	if !ok {
		x.fail(fmt.Errorf("%w: $ref to %s, which is not defined", ErrSpec, name))
		return map[string]any{}
	}
	x.stack = append(x.stack, name)
	defer func() { x.stack = x.stack[:len(x.stack)-1] }()
	return x.node(d)
}

func (x *expander) fail(err error) {
	if x.err == nil {
		x.err = err
	}
}

// node expands one schema node.
func (x *expander) node(in map[string]any) map[string]any {
	if ref, ok := in["$ref"].(string); ok {
		return x.def(strings.TrimPrefix(ref, defPrefix))
	}
	if in["format"] == "int-or-string" {
		return intOrString()
	}
	out := map[string]any{}
	for k, v := range in {
		switch {
		case k == "description" || strings.HasPrefix(k, "x-kubernetes-"):
		case k == "properties":
			props, _ := v.(map[string]any)
			required := stringSet(in["required"])
			expanded := map[string]any{}
			for p, ps := range props {
				m, _ := ps.(map[string]any)
				e := x.node(m)
				if !required[p] {
					e = nullable(e) // an optional field may be null, as the API server reads it
				}
				expanded[p] = e
			}
			out[k] = expanded
		case k == "items" || k == "additionalProperties":
			if m, ok := v.(map[string]any); ok {
				out[k] = x.node(m)
			} else {
				out[k] = v
			}
		default:
			out[k] = v
		}
	}
	if x.strict {
		if _, ok := out["properties"]; ok {
			if _, set := out["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
	}
	return out
}

func intOrString() map[string]any {
	return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
}

// nullable lets s also accept null, without changing s (expansions are shared).
func nullable(s map[string]any) map[string]any {
	switch t := s["type"].(type) {
	case string:
		c := make(map[string]any, len(s))
		for k, v := range s {
			c[k] = v
		}
		c["type"] = []any{t, "null"}
		return c
	case nil:
		_, oneOf := s["oneOf"]
		_, anyOf := s["anyOf"]
		_, ref := s["$ref"]
		if !oneOf && !anyOf && !ref {
			return s // no type: anything, null included
		}
	case []any:
		return s // already a list of types (not in swagger; from a CRD's nullable)
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func stringSet(v any) map[string]bool {
	set := map[string]bool{}
	l, _ := v.([]any)
	for _, s := range l {
		if str, ok := s.(string); ok {
			set[str] = true
		}
	}
	return set
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
