package xds

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgetel/edgetel/model"
)

func TestSetSecretsNeverLogsASecretsContents(t *testing.T) {
	var logged bytes.Buffer
	s, err := NewServer(Config{Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecrets(map[string]model.Secret{
		"edge/a": {CertChain: []byte("CERT-MARKER"), PrivateKey: []byte("KEY-MARKER")},
		"edge/b": {CertChain: []byte("-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n"),
			PrivateKey: []byte("-----BEGIN PRIVATE KEY-----\nS0VZLU1BUktFUg==\n-----END PRIVATE KEY-----\n")},
	})
	out := logged.String()
	for _, secret := range []string{"MARKER", "Q0VSVA", "S0VZLU1BUktFUg"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a secret's contents (%s):\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `secret=edge/a`) || !strings.Contains(out, `secret=edge/b`) {
		t.Errorf("the log does not name the secrets it refused:\n%s", out)
	}
}

func TestASecretThatIsNotACertificateAndItsKeyIsInvalid(t *testing.T) {
	_, err := secretResource("edge/a", model.Secret{CertChain: []byte("x"), PrivateKey: []byte("y")})
	if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), `secret "edge/a"`) {
		t.Errorf("secretResource = %v; want ErrInvalidSecret naming the secret", err)
	}
}

func TestTheSecretsOfAListenerAreTheSDSNamesOfItsTLS(t *testing.T) {
	e := testEdge()
	e.Listeners = append(e.Listeners,
		model.Listener{Name: "https", Address: "0.0.0.0", Port: 10443, TLS: &model.TLS{SecretName: "edge/b"}},
		model.Listener{Name: "https2", Address: "0.0.0.0", Port: 10444, TLS: &model.TLS{SecretName: "edge/a"}},
		model.Listener{Name: "https3", Address: "0.0.0.0", Port: 10445, TLS: &model.TLS{SecretName: "edge/a"}},
		model.Listener{Name: "files", Address: "0.0.0.0", Port: 10446, TLS: &model.TLS{CertFile: "/c", KeyFile: "/k"}})
	res, err := Translate(e)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"edge/a", "edge/b"}, sdsSecretNames(res.Listeners)); diff != "" {
		t.Errorf("sdsSecretNames (-want +got):\n%s", diff)
	}
}
