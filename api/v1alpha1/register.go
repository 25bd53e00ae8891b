package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group is the API group of the edgetel policy types.
const Group = "edgetel.io"

// Version is the API version of this package.
const Version = "v1alpha1"

// Kinds of the policy objects.
const (
	KindEdgeRoute  = "EdgeRoute"
	KindEdgeConfig = "EdgeConfig"
)

// GroupVersion is the group and version of this package's types.
var GroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// APIVersion is the apiVersion string a policy document carries.
var APIVersion = GroupVersion.String()

var (
	// SchemeBuilder registers the types with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&EdgeRoute{}, &EdgeRouteList{},
		&EdgeConfig{}, &EdgeConfigList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
