package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	discoveryv1client "k8s.io/client-go/kubernetes/typed/discovery/v1"
	"k8s.io/client-go/rest"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/model"
)

// The Kubernetes source reads EdgeRoutes and EdgeConfigs (custom resources, see deploy/crds),
// Services and EndpointSlices through client-go informers, hands the policies to Compile and
// the endpoints to the xDS server, and writes Compile's verdicts back into each object's
// status.conditions. It also reads the kubernetes.io/tls Secrets that listeners name
// (secretName), and those only (kube_secrets.go), for the xDS server to serve over SDS.
//
// It needs these permissions (the Helm chart's ClusterRole):
//
//	edgetel.io       edgeroutes, edgeconfigs                  get list watch
//	edgetel.io       edgeroutes/status, edgeconfigs/status    get update
//	""               services                                 get list watch
//	discovery.k8s.io endpointslices                           get list watch
//	""               secrets                                  list watch
//
// Secrets are listed and watched one by one, with a metadata.name field selector, so the
// secrets rule may be a Role in each Secret's namespace with resourceNames listing the
// certificates, rather than a cluster-wide rule: edgetel needs no other Secret.

// Sentinel errors of the Kubernetes source.
var (
	// ErrKubeConfig: the KubeConfig cannot work.
	ErrKubeConfig = errors.New("invalid Kubernetes source config")
	// ErrKubeStarted: Start was called on a source that is running.
	ErrKubeStarted = errors.New("Kubernetes source already started")
	// ErrKubeSync: the informers' caches did not fill before Start's context ended.
	ErrKubeSync = errors.New("Kubernetes caches did not sync")
	// ErrKubeObject: an object from the API server cannot be read as a policy.
	ErrKubeObject = errors.New("cannot read Kubernetes object")
	// ErrKubeStatus: the status of a policy object could not be written.
	ErrKubeStatus = errors.New("cannot write Kubernetes status")
)

// Resources of the policy custom resources, for dynamic clients.
var (
	EdgeRouteResource  = v1alpha1.GroupVersion.WithResource("edgeroutes")
	EdgeConfigResource = v1alpha1.GroupVersion.WithResource("edgeconfigs")
)

// Defaults of KubeConfig.
const (
	DefaultKubeFieldManager = "edgetel"
	// DefaultKubeDebounce gathers the events of one kubectl apply (or of a rollout's many
	// EndpointSlice updates) into one update.
	DefaultKubeDebounce = 100 * time.Millisecond
)

// KubeConfig configures the Kubernetes source.
type KubeConfig struct {
	RESTConfig *rest.Config
	// Namespace limits EdgeRoutes, Services and EndpointSlices to one namespace; "" watches
	// all. EdgeConfig is cluster-scoped and always watched cluster-wide; a sink Service
	// outside Namespace has no endpoints. A listener's Secret is read in the namespace its
	// secretName gives, whatever Namespace is.
	Namespace string
	// Resync is the informers' resync period; 0 turns resyncs off. A resync alone never
	// produces an update.
	Resync time.Duration
	// FieldManager names edgetel in the objects' managedFields. Default DefaultKubeFieldManager.
	FieldManager string
	// Debounce is how long events are gathered before an update. Default DefaultKubeDebounce.
	Debounce time.Duration
	// Logger reports objects that cannot be read. Default slog.Default().
	Logger *slog.Logger
}

// Validate reports what is wrong with the config.
func (c *KubeConfig) Validate() error {
	var errs []error
	if c.RESTConfig == nil {
		errs = append(errs, fmt.Errorf("%w: RESTConfig is required", ErrKubeConfig))
	}
	if c.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(c.Namespace) {
			errs = append(errs, fmt.Errorf("%w: namespace %q: %s", ErrKubeConfig, c.Namespace, msg))
		}
	}
	if c.Resync < 0 || c.Debounce < 0 {
		errs = append(errs, fmt.Errorf("%w: resync %v and debounce %v must not be negative", ErrKubeConfig, c.Resync, c.Debounce))
	}
	return errors.Join(errs...)
}

// KubeState is what the cluster holds now. The consumer owns it: the source never touches a
// state again once sent.
type KubeState struct {
	// Policies are every EdgeRoute and EdgeConfig, sorted by key, for Compile.
	Policies []Policy
	// Endpoints holds the ready endpoints of every port of every Service, keyed by
	// KubeServiceKey (namespace/service:port, the Service's port number); a port without
	// ready endpoints has no entry. EndpointsForModel picks and renames those a model uses.
	// Every Service is included, not only those that routes reference, so that the
	// mapping to clusters can follow the model that Compile settles on, last good
	// versions included.
	Endpoints map[string][]model.Endpoint
	// Secrets holds the certificates of the kubernetes.io/tls Secrets that listeners name,
	// keyed by namespace/name as secretName gives it: those that an EdgeConfig object names
	// and those that the model in force names (KeepSecrets). A named Secret that does not
	// exist, or is not a kubernetes.io/tls Secret with tls.crt and tls.key, has no entry.
	// No other Secret is ever read.
	Secrets map[string]model.Secret
}

// Kube is the Kubernetes policy and endpoint source. It may be started again after Shutdown.
type Kube struct {
	cfg  KubeConfig
	log  *slog.Logger
	dyn  dynamic.Interface
	core corev1client.CoreV1Interface
	disc discoveryv1client.DiscoveryV1Interface
	// updates holds at most the latest state; see Updates.
	updates chan KubeState

	mu   sync.Mutex
	run  *kubeRun // nil while stopped
	kept []string // KeepSecrets', sorted
}

// NewKube returns a stopped source; Start starts it.
func NewKube(cfg KubeConfig) (*Kube, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.FieldManager == "" {
		cfg.FieldManager = DefaultKubeFieldManager
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = DefaultKubeDebounce
	}
	k := &Kube{cfg: cfg, log: cfg.Logger, updates: make(chan KubeState, 1)}
	if k.log == nil {
		k.log = slog.Default()
	}
	rc := rest.CopyConfig(cfg.RESTConfig)
	if rc.UserAgent == "" {
		rc.UserAgent = cfg.FieldManager
	}
	// client-go's default of 5 requests a second would take half an hour over the first
	// status writes of 10,000 routes.
	if rc.QPS == 0 && rc.RateLimiter == nil {
		rc.QPS, rc.Burst = 50, 100
	}
	var err error
	if k.dyn, err = dynamic.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKubeConfig, err)
	}
	if k.core, err = corev1client.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKubeConfig, err)
	}
	if k.disc, err = discoveryv1client.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKubeConfig, err)
	}
	return k, nil
}

// Updates delivers a KubeState after the caches sync and after every change. It keeps only
// the latest state: a slow reader skips states, never sees an old one after a newer, and
// never holds up the informers. The channel is never closed.
func (k *Kube) Updates() <-chan KubeState { return k.updates }

// Start starts the informers and returns once their caches are synced and the first state is
// on Updates, or with ErrKubeSync when ctx ends first (the CRDs not installed, or no
// permission to list). ctx bounds the start only: the informers run until Shutdown.
func (k *Kube) Start(ctx context.Context) error {
	k.mu.Lock()
	if k.run != nil {
		k.mu.Unlock()
		return ErrKubeStarted
	}
	r := newKubeRun(k)
	k.run = r
	k.mu.Unlock()
	r.start()
	select {
	case <-r.ready:
		return nil
	case <-r.ctx.Done():
		return fmt.Errorf("%w: shut down while starting", ErrKubeSync)
	case <-ctx.Done():
		select {
		case <-r.ready: // synced just as ctx ended: a start all the same
			return nil
		default:
		}
	}
	err := fmt.Errorf("%w: %w (are the CRDs of deploy/crds installed, and may edgetel list edgeroutes, "+
		"edgeconfigs, services and endpointslices?)", ErrKubeSync, ctx.Err())
	k.stop(r)
	return err
}

// Shutdown stops the informers and waits for them until ctx ends. It is safe to call twice
// and without Start.
func (k *Kube) Shutdown(ctx context.Context) error {
	k.mu.Lock()
	r := k.run
	k.mu.Unlock()
	if r == nil {
		return nil
	}
	k.stop(r)
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutting down the Kubernetes source: %w", ctx.Err())
	}
}

// stop cancels run r and forgets it, unless a newer run has replaced it already.
func (k *Kube) stop(r *kubeRun) {
	r.cancel()
	k.mu.Lock()
	if k.run == r {
		k.run = nil
	}
	k.mu.Unlock()
}

// running returns the current run, or nil.
func (k *Kube) running() *kubeRun {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.run
}

// publish replaces whatever state is waiting on updates with s, never blocking: should an old
// run still be publishing after a Shutdown that timed out, the two take turns, latest wins.
func (k *Kube) publish(s KubeState) {
	for {
		select {
		case k.updates <- s:
			return
		default:
		}
		select {
		case <-k.updates:
		default:
		}
	}
}
