package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/model"
)

// DefaultNamespace is the namespace of an EdgeRoute in a file that names none.
const DefaultNamespace = "default"

// Policy is one decoded policy with where it came from: exactly one of Route and Config is set.
type Policy struct {
	Source model.Source
	Route  *v1alpha1.EdgeRoute
	Config *v1alpha1.EdgeConfig
}

// Key identifies a policy across versions: its kind, namespace and name.
func (p Policy) Key() string {
	return p.Source.Kind + "/" + p.Source.Namespace + "/" + p.Source.Name
}

// Decode reads the policies of one file: YAML documents separated by "---", each an EdgeRoute
// or an EdgeConfig. Unknown fields are errors, so that a typo is caught rather than ignored.
// Every problem names the file, the document and, where it can, the field.
func Decode(file string, data []byte) ([]Policy, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []Policy
	var errs []error
	for doc := 0; ; doc++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		src := model.Source{File: file, Doc: doc}
		if err != nil {
			errs = append(errs, &Problem{Source: src, Message: err.Error(), Err: ErrParse})
			break
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			continue
		}
		p, err := decodeDoc(src, raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

func decodeDoc(src model.Source, raw []byte) (Policy, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return Policy{}, &Problem{Source: src, Message: err.Error(), Err: ErrParse}
	}
	if tm.APIVersion != v1alpha1.APIVersion {
		return Policy{}, &Problem{Source: src, Field: "apiVersion",
			Message: fmt.Sprintf("is %q, want %q", tm.APIVersion, v1alpha1.APIVersion), Err: ErrParse}
	}
	var p Policy
	var obj any
	switch tm.Kind {
	case v1alpha1.KindEdgeRoute:
		p.Route = &v1alpha1.EdgeRoute{}
		obj = p.Route
	case v1alpha1.KindEdgeConfig:
		p.Config = &v1alpha1.EdgeConfig{}
		obj = p.Config
	default:
		return Policy{}, &Problem{Source: src, Field: "kind",
			Message: fmt.Sprintf("is %q, want EdgeRoute or EdgeConfig", tm.Kind), Err: ErrParse}
	}
	if err := decodeStrict(raw, obj); err != nil {
		return Policy{}, &Problem{Source: src, Message: err.Error(), Err: ErrParse}
	}
	p.Source = src
	p.Source.Kind = tm.Kind
	if p.Route != nil {
		if p.Route.Namespace == "" {
			p.Route.Namespace = DefaultNamespace
		}
		p.Source.Namespace, p.Source.Name = p.Route.Namespace, p.Route.Name
	} else {
		p.Source.Name = p.Config.Name
	}
	return p, nil
}

// decodeStrict decodes a YAML document into obj as the Kubernetes API server would, and
// rejects unknown and duplicate fields with their full path ("unknown field spec.retries.on").
func decodeStrict(raw []byte, obj any) error {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(js, obj)
	if err != nil {
		return err
	}
	for i, e := range strict {
		if strings.Contains(e.Error(), `.true"`) {
			strict[i] = fmt.Errorf("%w (YAML reads a key on, yes or y as true: retries take retryOn)", e)
		}
	}
	return errors.Join(strict...)
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
