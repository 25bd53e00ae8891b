package config

import (
	"context"
	"fmt"

	"github.com/edgetel/edgetel/model"
)

// KubeTarget takes what Kubernetes says beyond policy: certificates and endpoints. The xDS
// server is one.
type KubeTarget interface {
	SetSecrets(secrets map[string]model.Secret)
	SetEndpoints(cluster string, eps []model.Endpoint)
	SetSinkEndpoints(eps []model.Endpoint)
}

// Apply takes one KubeState into use: the certificates first (so that a listener the new
// model adds finds its certificate served), then the policies through store, then the
// endpoints of the model in force, then every policy's status. target may be nil (a sink
// without the xDS server). It returns the store's state; a status write that failed is
// returned as the error, the rest having been applied.
func (k *Kube) Apply(ctx context.Context, store *Store, target KubeTarget, st KubeState) (State, error) {
	if target != nil {
		target.SetSecrets(st.Secrets)
	}
	state := store.Update(st.Policies, nil)
	if state.Edge != nil {
		k.KeepSecrets(SecretNames(state.Edge))
		if target != nil {
			for cluster, list := range EndpointsForModel(state.Edge, st.Endpoints) {
				if cluster == SinkClusterName {
					target.SetSinkEndpoints(list)
					continue
				}
				target.SetEndpoints(cluster, list)
			}
		}
	}
	if err := k.WriteStatus(ctx, state.Verdicts); err != nil {
		return state, fmt.Errorf("writing policy status: %w", err)
	}
	return state, nil
}

// Run applies every update of the source until ctx ends, calling observe with each result.
func (k *Kube) Run(ctx context.Context, store *Store, target KubeTarget, observe func(State, error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-k.Updates():
			state, err := k.Apply(ctx, store, target, st)
			if observe != nil {
				observe(state, err)
			}
		}
	}
}
