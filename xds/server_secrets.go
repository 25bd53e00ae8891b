package xds

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/model"
)

// ErrInvalidSecret: a certificate given to SetSecrets is not one Envoy could load.
var ErrInvalidSecret = errors.New("invalid secret")

// secretState is what the server knows of TLS certificates. Called with pubMu held.
type secretState struct {
	// served is what the LinearCache holds, by name.
	served map[string]*tlsv3.Secret
	// invalid holds why each secret given but not served was refused, as last logged.
	invalid map[string]string
	// referenced are the names the Envoy listeners in force load over SDS, sorted; missing
	// those of them not served, as last reported.
	referenced, missing []string
}

func newSecretState() secretState {
	return secretState{served: map[string]*tlsv3.Secret{}, invalid: map[string]string{}}
}

// SetSecrets sets the TLS certificates that listeners load over SDS, keyed by the name a
// listener's secretName gives (namespace/name of a Kubernetes Secret). It replaces the whole
// set; only the secrets that changed are pushed, so a renewed certificate reaches Envoy
// without any other push. A secret that is not a certificate and private key pair Envoy
// could load is not served, and said so in the log (never with its contents).
//
// A secret that a listener in force loads and the server does not serve is reported (log,
// edgetel_xds_missing_secrets): Envoy keeps such a listener warming until it arrives.
func (s *Server) SetSecrets(secrets map[string]model.Secret) {
	want := make(map[string]*tlsv3.Secret, len(secrets))
	invalid := map[string]string{}
	for name, sec := range secrets {
		res, err := secretResource(name, sec)
		if err != nil {
			invalid[name] = err.Error()
			continue
		}
		want[name] = res
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	for name, why := range invalid {
		if s.secrets.invalid[name] != why { // once per problem, not once per update
			s.log.Warn("xds: a secret is not served", "secret", name, "error", why)
		}
	}
	s.secrets.invalid = invalid
	s.syncSecrets(want)
	s.reportMissingSecrets()
}

// secretResource is the SDS Secret of a certificate, checked the way Envoy would: a pair it
// cannot load would be NACKed, leaving the listener on its old certificate, or warming.
func secretResource(name string, sec model.Secret) (*tlsv3.Secret, error) {
	if !utf8.ValidString(name) {
		return nil, fmt.Errorf("%w: secret %q: the name is not UTF-8", ErrInvalidSecret, name)
	}
	if _, err := tls.X509KeyPair(sec.CertChain, sec.PrivateKey); err != nil {
		return nil, fmt.Errorf("%w: secret %q: not a PEM certificate chain and its private key: %v", ErrInvalidSecret, name, err)
	}
	res := &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: inlineBytes(sec.CertChain),
		PrivateKey:       inlineBytes(sec.PrivateKey),
	}}}
	if err := checkMessage(res, "secret "+quote(name)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	return res, nil
}

func inlineBytes(b []byte) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b}}
}

// syncSecrets brings the LinearCache to want, touching only the secrets that changed.
func (s *Server) syncSecrets(want map[string]*tlsv3.Secret) {
	update := map[string]types.Resource{}
	for name, sec := range want {
		if old, ok := s.secrets.served[name]; !ok || !proto.Equal(old, sec) {
			update[name] = sec
		}
	}
	var remove []string
	for name := range s.secrets.served {
		if _, ok := want[name]; !ok {
			remove = append(remove, name)
		}
	}
	if len(update) == 0 && len(remove) == 0 {
		return
	}
	if err := s.caches.secrets.UpdateResources(update, remove); err != nil {
		// As for endpoints: the cache holds the new secrets all the same.
		s.log.Error("xds: notifying secret watches", "error", err)
	}
	s.secrets.served = want
}

// setReferencedSecrets takes the SDS names of the Envoy listeners in force.
func (s *Server) setReferencedSecrets(listeners []*listenerv3.Listener) {
	s.secrets.referenced = sdsSecretNames(listeners)
	s.reportMissingSecrets()
}

// reportMissingSecrets sets edgetel_xds_missing_secrets, and logs when the set of missing
// secrets changes: a listener whose certificate never arrives would otherwise only be seen
// warming in Envoy's admin page.
func (s *Server) reportMissingSecrets() {
	var missing []string
	for _, name := range s.secrets.referenced {
		if _, ok := s.secrets.served[name]; !ok {
			missing = append(missing, name)
		}
	}
	s.metrics.missing.Set(float64(len(missing)))
	if slices.Equal(missing, s.secrets.missing) {
		return
	}
	if len(missing) > 0 {
		s.log.Warn("xds: listeners load secrets that the server does not have; they stay warming until the secrets arrive",
			"missing", missing)
	} else {
		s.log.Info("xds: every secret that a listener loads is served")
	}
	s.secrets.missing = missing
}

// sdsSecretNames returns the names of the secrets that the listeners load over ADS, sorted.
func sdsSecretNames(listeners []*listenerv3.Listener) []string {
	var names []string
	for _, l := range listeners {
		for _, fc := range append([]*listenerv3.FilterChain{l.GetDefaultFilterChain()}, l.GetFilterChains()...) {
			ctx := &tlsv3.DownstreamTlsContext{}
			tc := fc.GetTransportSocket().GetTypedConfig()
			if tc == nil || !tc.MessageIs(ctx) || tc.UnmarshalTo(ctx) != nil {
				continue
			}
			common := ctx.GetCommonTlsContext()
			sds := slices.Clone(common.GetTlsCertificateSdsSecretConfigs())
			if v := common.GetValidationContextSdsSecretConfig(); v != nil {
				sds = append(sds, v)
			}
			for _, c := range sds {
				if c.GetSdsConfig().GetAds() != nil {
					names = append(names, c.GetName())
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
