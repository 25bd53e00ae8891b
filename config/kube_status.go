package config

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/model"
)

// The condition edgetel sets on every policy object, and its reasons.
const (
	ConditionAccepted = "Accepted"
	// ReasonAccepted: the policy is in force.
	ReasonAccepted = "Accepted"
	// ReasonInvalid: a field has a value edgetel cannot accept (ErrInvalid, ErrParse).
	ReasonInvalid = "Invalid"
	// ReasonConflicted: another policy claims the same host and match, or is the EdgeConfig
	// in force (ErrConflict).
	ReasonConflicted = "Conflicted"
	// ReasonRejected: a problem that wraps none of the sentinels.
	ReasonRejected = "Rejected"
)

// kubeMaxMessage is the API's limit on a condition's message, in bytes.
const kubeMaxMessage = 32768

// WriteStatus sets the Accepted condition and observedGeneration of every EdgeRoute and
// EdgeConfig that verdicts speak of (policies from files are skipped). It writes only what
// changed, so that calling it after every compile, including the compile that its own
// status write triggers, does not loop. A verdict on an older generation than the object's
// is skipped: the compile of the newer one brings its own verdict. Conflicting writes are
// retried on a fresh read. The errors of all objects are joined, each wrapping
// ErrKubeStatus and naming its object.
func (k *Kube) WriteStatus(ctx context.Context, verdicts []Verdict) error {
	r := k.running()
	var errs []error
	for _, v := range verdicts {
		gvr, ok := kubeVerdictResource(v.Source)
		if !ok {
			continue
		}
		if err := k.writeStatus(ctx, r.cached(gvr, v.Source), gvr, v); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrKubeStatus, v.Source, err))
		}
	}
	return errors.Join(errs...)
}

func kubeVerdictResource(s model.Source) (schema.GroupVersionResource, bool) {
	switch {
	case s.File != "":
		return schema.GroupVersionResource{}, false
	case s.Kind == v1alpha1.KindEdgeRoute:
		return EdgeRouteResource, true
	case s.Kind == v1alpha1.KindEdgeConfig:
		return EdgeConfigResource, true
	}
	return schema.GroupVersionResource{}, false
}

// cached returns the informer's copy of the object, or nil when the source is not running
// or has not seen it. The copy is shared with the cache: read only.
func (r *kubeRun) cached(gvr schema.GroupVersionResource, s model.Source) *unstructured.Unstructured {
	if r == nil {
		return nil
	}
	inf, key := r.routes, s.Namespace+"/"+s.Name
	if gvr == EdgeConfigResource {
		inf, key = r.configs, s.Name
	}
	obj, _, _ := inf.GetIndexer().GetByKey(key)
	u, _ := obj.(*unstructured.Unstructured)
	return u
}

// writeStatus writes v into the object's status, starting from obj (the cached copy, or nil
// to read it from the API server).
func (k *Kube) writeStatus(ctx context.Context, obj *unstructured.Unstructured, gvr schema.GroupVersionResource, v Verdict) error {
	res := k.dyn.Resource(gvr).Namespace(v.Source.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := obj
		obj = nil // a retry reads the object afresh
		if cur == nil {
			got, err := res.Get(ctx, v.Source.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil // deleted since: nobody to tell
			}
			if err != nil {
				return err
			}
			cur = got
		}
		if cur.GetGeneration() > v.Source.Generation {
			return nil
		}
		status, changed, err := kubeStatus(cur, v)
		if err != nil || !changed {
			return err
		}
		cur = cur.DeepCopy()
		cur.SetAPIVersion(v1alpha1.APIVersion)
		cur.SetKind(v.Source.Kind)
		cur.Object["status"] = status
		_, err = res.UpdateStatus(ctx, cur, metav1.UpdateOptions{FieldManager: k.cfg.FieldManager})
		return err
	})
}

// kubeStatus returns obj's status with v's condition in it, and whether that differs from
// what obj has. Other conditions, set by someone else, are kept.
func kubeStatus(obj *unstructured.Unstructured, v Verdict) (map[string]any, bool, error) {
	var st v1alpha1.PolicyStatus
	if m, ok := obj.Object["status"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &st); err != nil {
			return nil, false, fmt.Errorf("%w: status: %w", ErrKubeObject, err)
		}
	}
	cond := kubeCondition(v)
	changed := meta.SetStatusCondition(&st.Conditions, cond)
	if st.ObservedGeneration != cond.ObservedGeneration {
		st.ObservedGeneration = cond.ObservedGeneration
		changed = true
	}
	if !changed {
		return nil, false, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&st)
	return m, true, err
}

// kubeCondition says v as an Accepted condition. The reason comes from the sentinel of the
// problems; when a policy has several kinds, Invalid wins, being the one to fix first.
func kubeCondition(v Verdict) metav1.Condition {
	c := metav1.Condition{Type: ConditionAccepted, ObservedGeneration: v.Source.Generation}
	if v.Accepted {
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, ReasonAccepted, "The policy is in force."
		return c
	}
	c.Status, c.Reason, c.Message = metav1.ConditionFalse, ReasonRejected, "The policy is rejected."
	switch {
	case errors.Is(v.Problems, ErrInvalid), errors.Is(v.Problems, ErrParse):
		c.Reason = ReasonInvalid
	case errors.Is(v.Problems, ErrConflict):
		c.Reason = ReasonConflicted
	}
	if v.Problems != nil {
		c.Message = v.Problems.Error()
	}
	if v.Stale {
		c.Message += "\nIts last accepted version stays in force."
	}
	if len(c.Message) > kubeMaxMessage {
		c.Message = strings.ToValidUTF8(c.Message[:kubeMaxMessage-3], "") + "..."
	}
	return c
}
