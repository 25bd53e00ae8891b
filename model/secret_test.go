package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestASecretNeverPrintsItsKey(t *testing.T) {
	s := Secret{CertChain: []byte("-----BEGIN CERTIFICATE-----cert"), PrivateKey: []byte("-----BEGIN PRIVATE KEY-----key")}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "secret", s, "ptr", &s)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", s)
	js, err := json.Marshal(map[string]any{"s": s})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s), fmt.Sprintf("%+v", &s),
		fmt.Sprintf("%v", map[string]Secret{"a": s}), logged.String(), string(js),
	} {
		if strings.Contains(out, "BEGIN") {
			t.Errorf("printed the contents: %s", out)
		}
		if !strings.Contains(out, "redacted") {
			t.Errorf("does not say it is redacted: %s", out)
		}
	}
}
