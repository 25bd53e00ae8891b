package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/edgetel/edgetel/config"
)

// sourceFlags choose where policies come from: a directory, Kubernetes, or the examples.
type sourceFlags struct {
	policies   string
	kubernetes bool
	kubeconfig string
	namespace  string
}

func (f *sourceFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.policies, "policies", "", "directory of EdgeRoute/EdgeConfig YAML files, watched for changes (default: the embedded examples)")
	fs.BoolVar(&f.kubernetes, "kubernetes", false, "read policies from EdgeRoute and EdgeConfig objects (in-cluster, or --kubeconfig)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file for --kubernetes outside a cluster")
	fs.StringVar(&f.namespace, "namespace", "", "with --kubernetes, watch EdgeRoutes in this namespace only (default: all)")
}

// policySourceComponent feeds store from the chosen source until shutdown. With Kubernetes it
// also hands endpoints and certificates to eps (may be nil) and writes each policy's status.
func policySourceComponent(f sourceFlags, store *config.Store, eps config.KubeTarget) (named, error) {
	if f.kubernetes {
		return kubeSource(f, store, eps)
	}
	return dirSource(f, store), nil
}

func dirSource(f sourceFlags, store *config.Store) named {
	src := policySource(f.policies)
	var mu sync.Mutex // reloads come from the watcher's goroutine and from Start
	reload := func() {
		mu.Lock()
		defer mu.Unlock()
		ps, err := src.Load()
		logState(store.Update(ps, err))
	}
	var cancel context.CancelFunc
	return named{"policies", funcComponent{
		start: func(ctx context.Context) error {
			reload()
			if f.policies == "" {
				return nil
			}
			var wctx context.Context
			wctx, cancel = context.WithCancel(context.Background())
			return config.WatchDir(wctx, f.policies, config.DefaultDebounce, reload,
				func(err error) { slog.Warn("watching policies", "dir", f.policies, "err", err) })
		},
		stop: func(context.Context) error {
			if cancel != nil {
				cancel()
			}
			return nil
		},
	}}
}

func kubeSource(f sourceFlags, store *config.Store, eps config.KubeTarget) (named, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return named{}, errors.New("--kubernetes: " + err.Error())
	}
	k, err := config.NewKube(config.KubeConfig{RESTConfig: rc, Namespace: f.namespace})
	if err != nil {
		return named{}, err
	}
	var cancel context.CancelFunc
	done := make(chan struct{})
	return named{"kubernetes", funcComponent{
		start: func(ctx context.Context) error {
			if err := k.Start(ctx); err != nil {
				return err
			}
			var lctx context.Context
			lctx, cancel = context.WithCancel(context.Background())
			go func() {
				defer close(done)
				k.Run(lctx, store, eps, func(state config.State, err error) {
					logState(state)
					if err != nil {
						slog.Warn("kubernetes", "err", err)
					}
				})
			}()
			return nil
		},
		stop: func(ctx context.Context) error {
			if cancel != nil {
				cancel()
				<-done
			}
			return k.Shutdown(ctx)
		},
	}}, nil
}

// logState logs what an update did: one line for the result, one per problem.
func logState(s config.State) {
	for _, v := range s.Verdicts {
		if v.Problems != nil {
			slog.Warn("policy rejected", "policy", v.Source.String(), "stale", v.Stale, "problems", v.Problems)
		}
	}
	if s.SourceErr != nil {
		slog.Warn("policies unreadable, their last good versions stay in force", "err", s.SourceErr)
	}
	if s.RefusedErr != nil {
		slog.Error("compiled configuration refused, the last good one stays in force", "err", s.RefusedErr)
		return
	}
	if s.Edge != nil {
		slog.Info("policies in force", "generation", s.Generation, "routes", len(s.Edge.Routes))
	}
}
