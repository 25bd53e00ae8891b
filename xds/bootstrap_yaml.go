package xds

import (
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// jsonOptions writes the field names of Envoy's documentation (snake_case) and expands
// Anys through the global registry, where every extension this package uses is registered.
var jsonOptions = protojson.MarshalOptions{UseProtoNames: true}

// YAML renders a message (a bootstrap, a resource) as Envoy reads it. The output is stable:
// protojson's spacing is not, so it is re-encoded, with keys sorted.
func YAML(m proto.Message) ([]byte, error) {
	js, err := jsonOptions.Marshal(m)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(js)
}

// yamlList renders messages as one YAML list, in their order.
func yamlList[T proto.Message](ms []T) ([]byte, error) {
	list := make([]json.RawMessage, len(ms))
	for i, m := range ms {
		js, err := jsonOptions.Marshal(m)
		if err != nil {
			return nil, err
		}
		list[i] = js
	}
	js, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(js)
}
