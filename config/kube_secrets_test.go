package config_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/model"
)

// secretsFollow names a Secret in the EdgeConfig (of the step before), creates it next to
// one that nothing names, renews it, and names it no more.
func (r *kubeRig) secretsFollow(t *testing.T) {
	r.namespace(t, "certs")
	r.tlsSecret(t, "certs", "other", "other")
	r.updateConfig(t, "edge", func(s *v1alpha1.EdgeConfigSpec) {
		s.Listeners = []v1alpha1.Listener{{Name: "https", Port: 10443, TLS: &v1alpha1.ListenerTLS{SecretName: "certs/edge-cert"}}}
	})
	r.eventually(t, "the TLS listener in the model", func() error {
		if out, _ := r.current(); len(out.Edge.Listeners) != 1 || out.Edge.Listeners[0].TLS == nil {
			return fmt.Errorf("listeners %+v", out.Edge.Listeners)
		}
		return nil
	})
	r.wantSecrets(t, "no secret before it exists", map[string]model.Secret{})

	r.tlsSecret(t, "certs", "edge-cert", "v1")
	r.wantSecrets(t, "the named secret", map[string]model.Secret{"certs/edge-cert": testCert("v1")})
	r.tlsSecret(t, "certs", "edge-cert", "v2")
	r.wantSecrets(t, "the renewed secret", map[string]model.Secret{"certs/edge-cert": testCert("v2")})

	// A rejected EdgeConfig that names another Secret: its last good version, in force,
	// keeps its certificate (KeepSecrets), and the new one is watched for when it is fixed.
	r.tlsSecret(t, "certs", "new-cert", "v3")
	r.updateConfig(t, "edge", func(s *v1alpha1.EdgeConfigSpec) {
		s.Listeners[0].TLS.SecretName = "certs/new-cert"
		s.AccessLog.RequestHeaders = []string{"not a header"}
	})
	r.wantSecrets(t, "the certificate in force and the one named",
		map[string]model.Secret{"certs/edge-cert": testCert("v2"), "certs/new-cert": testCert("v3")})

	r.updateConfig(t, "edge", func(s *v1alpha1.EdgeConfigSpec) { s.Listeners, s.AccessLog.RequestHeaders = nil, nil })
	r.wantSecrets(t, "no secret once none is named", map[string]model.Secret{})

	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.secretRequests) == 0 {
		t.Fatal("the source made no request for Secrets")
	}
	for _, req := range r.secretRequests {
		path, query, _ := strings.Cut(req, "?")
		v, err := url.ParseQuery(query)
		named := v.Get("fieldSelector") == "metadata.name=edge-cert" || v.Get("fieldSelector") == "metadata.name=new-cert"
		if err != nil || path != "GET /api/v1/namespaces/certs/secrets" || !named {
			t.Errorf("the source asked for Secrets other than the one named: %s", req)
		}
	}
}

func testCert(version string) model.Secret {
	return model.Secret{CertChain: []byte("cert " + version), PrivateKey: []byte("key " + version)}
}

// tlsSecret creates or replaces a kubernetes.io/tls Secret holding testCert(version).
func (r *kubeRig) tlsSecret(t *testing.T, ns, name, version string) {
	t.Helper()
	c := testCert(version)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: c.CertChain, corev1.TLSPrivateKeyKey: c.PrivateKey}}
	_, err := r.core.Secrets(ns).Update(r.ctx(t), s, metav1.UpdateOptions{})
	if err != nil {
		_, err = r.core.Secrets(ns).Create(r.ctx(t), s, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// wantSecrets waits for the source's state to hold exactly want. model.Secret prints
// redacted, so a difference is shown by name and content.
func (r *kubeRig) wantSecrets(t *testing.T, what string, want map[string]model.Secret) {
	t.Helper()
	r.eventually(t, what, func() error {
		r.mu.Lock()
		got := r.secrets
		r.mu.Unlock()
		if !cmp.Equal(want, got) {
			return fmt.Errorf("secrets %v, want %v", secretContents(got), secretContents(want))
		}
		return nil
	})
}

func secretContents(m map[string]model.Secret) map[string]string {
	out := map[string]string{}
	for k, s := range m {
		out[k] = string(s.CertChain) + " / " + string(s.PrivateKey)
	}
	return out
}

// updateConfig changes the EdgeConfig's spec with edit, retrying when a status write races it.
func (r *kubeRig) updateConfig(t *testing.T, name string, edit func(*v1alpha1.EdgeConfigSpec)) {
	t.Helper()
	res := r.dyn.Resource(config.EdgeConfigResource)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u, err := res.Get(r.ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		var ec v1alpha1.EdgeConfig
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ec); err != nil {
			return err
		}
		edit(&ec.Spec)
		_, err = res.Update(r.ctx(t), kubeObject(t, &ec, v1alpha1.KindEdgeConfig), metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
