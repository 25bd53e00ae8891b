package kubeschema

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// FromCRDs converts the openAPIV3Schema of every served version of the
// CustomResourceDefinitions in data (YAML, any number of documents; other kinds are an
// error).
func FromCRDs(data []byte, opts Options) (Schemas, error) {
	out := Schemas{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSpec, err)
		}
		var crd struct {
			Kind string `json:"kind"`
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
				Versions []struct {
					Name   string `json:"name"`
					Served bool   `json:"served"`
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSpec, err)
		}
		if crd.Kind == "" {
			continue // an empty document
		}
		if crd.Kind != "CustomResourceDefinition" {
			return nil, fmt.Errorf("%w: a %s is not a CustomResourceDefinition", ErrSpec, crd.Kind)
		}
		for _, v := range crd.Spec.Versions {
			s := v.Schema.OpenAPIV3Schema
			if !v.Served || s == nil {
				continue
			}
			name := FileName(crd.Spec.Group, v.Name, crd.Spec.Names.Kind)
			out[name] = v3Node(s, opts.Strict)
			out[name]["$schema"] = "http://json-schema.org/schema#"
		}
	}
}

// v3Node converts a structural schema node: the API server's extensions become JSON schema.
func v3Node(in map[string]any, strict bool) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		switch k {
		case "description", "nullable", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
			"x-kubernetes-embedded-resource":
		case "properties":
			props, _ := v.(map[string]any)
			conv := map[string]any{}
			for p, ps := range props {
				m, _ := ps.(map[string]any)
				conv[p] = v3Node(m, strict)
			}
			out[k] = conv
		case "items", "additionalProperties", "not":
			if m, ok := v.(map[string]any); ok {
				out[k] = v3Node(m, strict)
			} else {
				out[k] = v
			}
		case "allOf", "anyOf", "oneOf":
			l, _ := v.([]any)
			conv := make([]any, len(l))
			for i, e := range l {
				m, _ := e.(map[string]any)
				conv[i] = v3Node(m, strict)
			}
			out[k] = conv
		default:
			if !strings.HasPrefix(k, "x-kubernetes-") {
				out[k] = v
			}
		}
	}
	if in["x-kubernetes-int-or-string"] == true {
		if _, ok := out["anyOf"]; !ok {
			out["anyOf"] = intOrString()["oneOf"]
		}
	}
	// Unknown fields are kept where the schema says so, and an embedded object brings its own
	// apiVersion, kind and metadata.
	open := in["x-kubernetes-preserve-unknown-fields"] == true || in["x-kubernetes-embedded-resource"] == true
	if _, ok := out["properties"]; ok && strict && !open {
		if _, set := out["additionalProperties"]; !set {
			out["additionalProperties"] = false
		}
	}
	if in["nullable"] == true {
		return nullable(out)
	}
	return out
}

// Write writes each schema into dir (created), compact and with sorted keys.
func Write(dir string, s Schemas) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range sortedKeys(s) {
		b, err := json.Marshal(s[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Merge adds the schemas of from to s; a name in both is an error (two sources defining
// one kind).
func (s Schemas) Merge(from Schemas) error {
	for name, v := range from {
		if _, dup := s[name]; dup {
			return fmt.Errorf("%w: %s defined twice", ErrSpec, name)
		}
		s[name] = v
	}
	return nil
}
