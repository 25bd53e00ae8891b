package config

import (
	"errors"
	"strings"
	"testing"
)

func edgeConfigWithTLS(tls string) string {
	return "apiVersion: edgetel.io/v1alpha1\nkind: EdgeConfig\nmetadata: {name: edge}\nspec:\n" +
		"  listeners:\n    - {name: https, port: 8443, tls: " + tls + "}\n"
}

func TestListenerTLSNamesASecretByNamespaceAndName(t *testing.T) {
	tests := []struct {
		name, tls, field, msg string
	}{
		{"a secret name without a namespace is refused", "{secretName: edge-cert}",
			"spec.listeners[0].tls.secretName", `"edge-cert" must be namespace/name of a kubernetes.io/tls Secret`},
		{"a secret name with an invalid namespace is refused", "{secretName: Edge/edge-cert}",
			"spec.listeners[0].tls.secretName", "must be namespace/name"},
		{"a secret name with two slashes is refused", "{secretName: edge/certs/edge-cert}",
			"spec.listeners[0].tls.secretName", "must be namespace/name"},
		{"a secret name and a file pair together are refused", "{secretName: edge/edge-cert, certFile: /c, keyFile: /k}",
			"spec.listeners[0].tls", "set secretName, or both certFile and keyFile"},
		{"a certificate file without a key file is refused", "{certFile: /c}",
			"spec.listeners[0].tls", "set secretName, or both certFile and keyFile"},
		{"namespace/name of a Secret is accepted", "{secretName: edge/edge-cert.v2}", "", ""},
		{"a certificate and key file pair is accepted", "{certFile: /etc/envoy/tls.crt, keyFile: /etc/envoy/tls.key}", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Compile(Input{Policies: mustDecode(t, "edge.yaml", edgeConfigWithTLS(tt.tls))})
			err := out.Err()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			want := "edge.yaml (EdgeConfig edge): " + tt.field + ": "
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v; want ErrInvalid with %q and %q", err, want, tt.msg)
			}
		})
	}
}
