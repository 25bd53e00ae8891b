package config

import (
	"context"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/model"
)

// kubeSecretSyncWait bounds the wait for a newly named Secret's informer to fill. It fills
// at once unless listing is refused (RBAC): then the state goes out without the Secret,
// which the xDS server reports missing, and the informer keeps trying.
const kubeSecretSyncWait = 5 * time.Second

// kubeSecrets watches exactly the Secrets that listeners name (secretName), each through an
// informer of its own whose list and watch carry a metadata.name field selector: edgetel
// never lists, watches or caches a Secret that no listener names, and the RBAC rule may be
// narrowed to those names (resourceNames), which Kubernetes honours for list and watch
// under such a selector. Informers come and go as the names do. Used by the run's loop only.
type kubeSecrets struct {
	r       *kubeRun
	watches map[string]*kubeSecretWatch // by namespace/name
	// logged is the resource version of each unusable Secret last logged, so that a bad
	// Secret is reported once per version, not once per update.
	logged map[string]string
	wg     sync.WaitGroup // the informers, so that the run's done waits for them
}

type kubeSecretWatch struct {
	inf    cache.SharedIndexInformer
	cancel context.CancelFunc
}

func newKubeSecrets(r *kubeRun) *kubeSecrets {
	return &kubeSecrets{r: r, watches: map[string]*kubeSecretWatch{}, logged: map[string]string{}}
}

// sync starts an informer for every name in want not watched yet, stops those of names no
// longer wanted, and waits a while for the new ones to fill.
func (s *kubeSecrets) sync(want map[string]bool) {
	var started []cache.InformerSynced
	for ref := range want {
		if s.watches[ref] == nil {
			w := s.start(ref)
			s.watches[ref] = w
			started = append(started, w.inf.HasSynced)
		}
	}
	for ref, w := range s.watches {
		if !want[ref] {
			w.cancel()
			delete(s.watches, ref)
			delete(s.logged, ref)
		}
	}
	if len(started) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.r.ctx, kubeSecretSyncWait)
	defer cancel()
	if cache.WaitForCacheSync(ctx.Done(), started...) || s.r.ctx.Err() != nil {
		return
	}
	var unread []string
	for ref, w := range s.watches {
		if !w.inf.HasSynced() {
			unread = append(unread, ref)
		}
	}
	slices.Sort(unread)
	s.r.k.log.Warn("a Secret that a listener names cannot be read yet; may edgetel list and watch secrets in its namespace?",
		"secrets", unread)
}

func (s *kubeSecrets) start(ref string) *kubeSecretWatch {
	ns, name, _ := splitSecretName(ref)
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	core := s.r.k.core
	inf := cache.NewSharedIndexInformer(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return core.Secrets(ns).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return core.Secrets(ns).Watch(ctx, o)
		},
	}, &corev1.Secret{}, s.r.k.cfg.Resync, cache.Indexers{})
	_ = inf.SetTransform(kubeStripManagedFields)
	_, _ = inf.AddEventHandler(s.r.handler(false))
	ctx, cancel := context.WithCancel(s.r.ctx)
	s.wg.Go(func() { inf.RunWithContext(ctx) })
	return &kubeSecretWatch{inf: inf, cancel: cancel}
}

// state returns the usable certificates among the watched Secrets, by namespace/name. The
// bytes are copies: the state shares nothing with the cache.
func (s *kubeSecrets) state() map[string]model.Secret {
	out := map[string]model.Secret{}
	for ref, w := range s.watches {
		for _, obj := range w.inf.GetStore().List() {
			sec, ok := obj.(*corev1.Secret)
			if !ok {
				continue
			}
			if m, ok := s.certificate(ref, sec); ok {
				out[ref] = m
			}
		}
	}
	return out
}

// certificate reads a kubernetes.io/tls Secret. Another type, or one without both keys, is
// logged (by name, never contents) and left out; the xDS server then reports it missing.
func (s *kubeSecrets) certificate(ref string, sec *corev1.Secret) (model.Secret, bool) {
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if sec.Type == corev1.SecretTypeTLS && len(crt) > 0 && len(key) > 0 {
		delete(s.logged, ref)
		return model.Secret{CertChain: slices.Clone(crt), PrivateKey: slices.Clone(key)}, true
	}
	if s.logged[ref] != sec.ResourceVersion {
		s.logged[ref] = sec.ResourceVersion
		s.r.k.log.Warn("a Secret that a listener names is not a kubernetes.io/tls Secret with tls.crt and tls.key; it is not used",
			"secret", ref, "type", sec.Type)
	}
	return model.Secret{}, false
}

// secretNames returns the Secrets to watch: those that any EdgeConfig object names, so that
// a certificate is ready when the EdgeConfig that names it is accepted, and those that the
// model in force names (KeepSecrets), so that an EdgeConfig that is rejected, its last good
// version in force, does not lose its certificate. Names that are not namespace/name are
// left out: Compile rejects them.
func (r *kubeRun) secretNames() map[string]bool {
	want := map[string]bool{}
	for _, ref := range r.k.keptSecrets() {
		want[ref] = true
	}
	for _, obj := range r.configs.GetStore().List() {
		p, err := kubePolicy(v1alpha1.KindEdgeConfig, obj)
		if err != nil {
			continue // policies() reports it
		}
		for _, l := range p.Config.Spec.Listeners {
			if l.TLS == nil {
				continue
			}
			if _, _, ok := splitSecretName(l.TLS.SecretName); ok {
				want[l.TLS.SecretName] = true
			}
		}
	}
	return want
}

// KeepSecrets tells the source the Secrets that the model in force names (its listeners'
// secretName): it watches them, besides those the EdgeConfig objects name, until the next
// call. The consumer calls it after taking a state into use; see KubeState.Secrets.
func (k *Kube) KeepSecrets(names []string) {
	names = slices.Sorted(slices.Values(names))
	k.mu.Lock()
	changed := !slices.Equal(names, k.kept)
	k.kept = names
	r := k.run
	k.mu.Unlock()
	if changed && r != nil {
		r.changed()
	}
}

func (k *Kube) keptSecrets() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.kept
}

// SecretNames returns the names of the Secrets that the model's listeners load
// (secretName), for KeepSecrets.
func SecretNames(e *model.Edge) []string {
	var out []string
	for _, l := range e.Listeners {
		if l.TLS != nil && l.TLS.SecretName != "" {
			out = append(out, l.TLS.SecretName)
		}
	}
	return out
}
