package dashboards

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigMapMeta places the dashboards' ConfigMaps.
type ConfigMapMeta struct {
	Namespace string // omitted when empty
	// Folder is the Grafana folder, as the sidecar's grafana_folder annotation; default "edgetel".
	Folder string
}

// ConfigMaps writes one ConfigMap per dashboard, labelled grafana_dashboard: "1" so that
// the Grafana sidecar (kiwigrid/k8s-sidecar, as the Grafana Helm chart runs it) loads it,
// as a multi-document YAML stream in the order of ds.
func ConfigMaps(ds []Dashboard, m ConfigMapMeta) ([]byte, error) {
	if m.Folder == "" {
		m.Folder = "edgetel"
	}
	var b bytes.Buffer
	for i, d := range ds {
		js, err := d.JSON()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		if err := encodeConfigMap(&b, d.UID, string(js), m); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func encodeConfigMap(b *bytes.Buffer, uid, js string, m ConfigMapMeta) error {
	type meta struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace,omitempty"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	}
	cm := struct {
		APIVersion string            `yaml:"apiVersion"`
		Kind       string            `yaml:"kind"`
		Metadata   meta              `yaml:"metadata"`
		Data       map[string]string `yaml:"data"`
	}{"v1", "ConfigMap", meta{
		Name:      configMapName(uid),
		Namespace: m.Namespace,
		Labels: map[string]string{"grafana_dashboard": "1",
			"app.kubernetes.io/name": "edgetel", "app.kubernetes.io/component": "dashboards"},
		Annotations: map[string]string{"grafana_folder": m.Folder},
	}, map[string]string{uid + ".json": js}}
	enc := yaml.NewEncoder(b)
	enc.SetIndent(2)
	if err := enc.Encode(cm); err != nil {
		return fmt.Errorf("%w: ConfigMap of %s: %w", ErrInvalidDashboard, uid, err)
	}
	return enc.Close()
}

// configMapName makes a Kubernetes name of a dashboard UID: lower case, with '_' (which
// Kubernetes names do not take) as '.', since '-' would make shop/checkout-x and
// shop-checkout/x one name.
func configMapName(uid string) string {
	return "grafana-dashboard-" + strings.ToLower(strings.ReplaceAll(uid, "_", "."))
}
