package config

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/model"
)

// kubeRun is one Start-to-Shutdown life of the source. Each Start builds new informers,
// because a client-go informer cannot run again once stopped.
type kubeRun struct {
	k      *Kube
	ctx    context.Context
	cancel context.CancelFunc

	routes, configs, services, slices cache.SharedIndexInformer
	secrets                           *kubeSecrets
	// poke carries "something changed" from the event handlers to the loop; one pending
	// poke stands for any number of events.
	poke  chan struct{}
	ready chan struct{} // closed once the first state is published
	done  chan struct{} // closed once every goroutine of the run has returned
}

func newKubeRun(k *Kube) *kubeRun {
	ctx, cancel := context.WithCancel(context.Background())
	ns, resync := k.cfg.Namespace, k.cfg.Resync
	r := &kubeRun{k: k, ctx: ctx, cancel: cancel,
		poke: make(chan struct{}, 1), ready: make(chan struct{}), done: make(chan struct{})}
	r.routes = kubeDynamicInformer(k.dyn, EdgeRouteResource, ns, resync)
	r.configs = kubeDynamicInformer(k.dyn, EdgeConfigResource, "", resync)
	r.services = cache.NewSharedIndexInformer(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return k.core.Services(ns).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return k.core.Services(ns).Watch(ctx, o)
		},
	}, &corev1.Service{}, resync, cache.Indexers{})
	r.slices = cache.NewSharedIndexInformer(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return k.disc.EndpointSlices(ns).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return k.disc.EndpointSlices(ns).Watch(ctx, o)
		},
	}, &discoveryv1.EndpointSlice{}, resync, cache.Indexers{kubeServiceIndex: kubeSliceService})
	r.secrets = newKubeSecrets(r)
	for _, inf := range r.informers() {
		policy := inf == r.routes || inf == r.configs
		// Neither call fails on an informer that has not run yet.
		_ = inf.SetTransform(kubeStripManagedFields)
		_, _ = inf.AddEventHandler(r.handler(policy))
	}
	return r
}

func kubeDynamicInformer(c dynamic.Interface, gvr schema.GroupVersionResource, ns string, resync time.Duration) cache.SharedIndexInformer {
	var res dynamic.ResourceInterface = c.Resource(gvr)
	if ns != "" {
		res = c.Resource(gvr).Namespace(ns)
	}
	return cache.NewSharedIndexInformer(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return res.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return res.Watch(ctx, o)
		},
	}, &unstructured.Unstructured{}, resync, cache.Indexers{})
}

// kubeStripManagedFields drops managedFields, often the biggest part of an object and never
// read here, from the cached copies.
func kubeStripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// kubeSynced lists the HasSynced functions of informers.
func kubeSynced(infs ...cache.SharedIndexInformer) []cache.InformerSynced {
	out := make([]cache.InformerSynced, len(infs))
	for i, inf := range infs {
		out[i] = inf.HasSynced
	}
	return out
}

func (r *kubeRun) informers() []cache.SharedIndexInformer {
	return []cache.SharedIndexInformer{r.routes, r.configs, r.services, r.slices}
}

func (r *kubeRun) start() {
	var wg sync.WaitGroup
	for _, inf := range r.informers() {
		wg.Go(func() { inf.RunWithContext(r.ctx) })
	}
	wg.Go(r.loop)
	go func() {
		wg.Wait()
		r.secrets.wg.Wait() // started by the loop, which has returned
		close(r.done)
	}()
}

// handler pokes the loop on every change. Resyncs are not changes, and neither are updates
// of a policy that leave its generation alone: those are status writes (ours) and metadata.
func (r *kubeRun) handler(policy bool) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { r.changed() },
		UpdateFunc: func(old, cur any) {
			o, err1 := meta.Accessor(old)
			c, err2 := meta.Accessor(cur)
			if err1 == nil && err2 == nil && (o.GetResourceVersion() == c.GetResourceVersion() ||
				policy && o.GetGeneration() == c.GetGeneration()) {
				return
			}
			r.changed()
		},
		DeleteFunc: func(any) { r.changed() },
	}
}

func (r *kubeRun) changed() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// loop publishes the first state once the caches are synced, then one state per burst of
// changes: it waits Debounce after the first event of a burst, so that a steady stream of
// events still yields an update every Debounce.
func (r *kubeRun) loop() {
	if !cache.WaitForCacheSync(r.ctx.Done(), kubeSynced(r.informers()...)...) {
		return
	}
	for first := true; ; first = false {
		r.drain()
		r.secrets.sync(r.secretNames())
		st := r.state()
		if r.ctx.Err() != nil {
			return // shut down while building: the state may be of a cache being torn down
		}
		r.k.publish(st)
		if first {
			close(r.ready)
		}
		select {
		case <-r.ctx.Done():
			return
		case <-r.poke:
		}
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(r.k.cfg.Debounce):
		}
	}
}

// drain forgets a pending poke: the state about to be built from the caches includes it,
// because informers update their cache before they call the handlers.
func (r *kubeRun) drain() {
	select {
	case <-r.poke:
	default:
	}
}

func (r *kubeRun) state() KubeState {
	return KubeState{Policies: r.policies(), Endpoints: r.endpoints(), Secrets: r.secrets.state()}
}

// policies converts the cached policy objects. One that cannot be converted (which the CRD
// schema should make impossible) is logged and left out: without its spec there is nothing
// to compile, and no status to write that the API server's validation would not say better.
func (r *kubeRun) policies() []Policy {
	var out []Policy
	for _, src := range []struct {
		inf  cache.SharedIndexInformer
		kind string
	}{{r.routes, v1alpha1.KindEdgeRoute}, {r.configs, v1alpha1.KindEdgeConfig}} {
		for _, obj := range src.inf.GetStore().List() {
			p, err := kubePolicy(src.kind, obj)
			if err != nil {
				r.k.log.Warn("ignoring a policy object", "err", err)
				continue
			}
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Policy) int { return strings.Compare(a.Key(), b.Key()) })
	return out
}

// kubePolicy converts a cached object to a Policy. The typed object is new, so the policy
// shares nothing with the cache.
func kubePolicy(kind string, obj any) (Policy, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return Policy{}, fmt.Errorf("%w: %s is a %T", ErrKubeObject, kind, obj)
	}
	p := Policy{Source: model.Source{Kind: kind, Namespace: u.GetNamespace(), Name: u.GetName(),
		Generation: u.GetGeneration()}}
	var typed any
	if kind == v1alpha1.KindEdgeRoute {
		p.Route = &v1alpha1.EdgeRoute{}
		typed = p.Route
	} else {
		p.Config = &v1alpha1.EdgeConfig{}
		typed = p.Config
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
		return Policy{}, fmt.Errorf("%w: %s: %w", ErrKubeObject, p.Source, err)
	}
	return p, nil
}

// endpoints gathers the endpoints of every Service from its EndpointSlices.
func (r *kubeRun) endpoints() map[string][]model.Endpoint {
	out := map[string][]model.Endpoint{}
	for _, obj := range r.services.GetStore().List() {
		svc, ok := obj.(*corev1.Service)
		if !ok {
			continue
		}
		objs, _ := r.slices.GetIndexer().ByIndex(kubeServiceIndex, svc.Namespace+"/"+svc.Name)
		eps := make([]*discoveryv1.EndpointSlice, 0, len(objs))
		for _, o := range objs {
			if s, ok := o.(*discoveryv1.EndpointSlice); ok {
				eps = append(eps, s)
			}
		}
		kubeServiceEndpoints(out, svc, eps)
	}
	return out
}
