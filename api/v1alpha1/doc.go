// Package v1alpha1 holds the edgetel policy types: EdgeRoute, owned by a service team and
// namespaced, and EdgeConfig, cluster-scoped and owned by the platform team.
//
// The same types are read from YAML files and from Kubernetes custom resources. They carry
// what the user wrote, as written: durations and percentages are validated and converted by
// package config, which names the file or object and the field of every problem.
//
// +kubebuilder:object:generate=true
// +groupName=edgetel.io
package v1alpha1
