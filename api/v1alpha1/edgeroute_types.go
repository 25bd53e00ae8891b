package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Duration is a duration as a person writes it in a policy: "300ms", "3s", "28d", "1w".
// Units are those of Prometheus durations (ms, s, m, h, d, w, y). It stays a string in the
// API so that a bad value is reported by package config with its field, not lost in decoding.
//
// +kubebuilder:validation:Pattern=`^([0-9]+(ms|s|m|h|d|w|y))+$`
type Duration string

// EdgeRoute is one service team's route on the edge, with its SLO.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=er,categories=edgetel
// +kubebuilder:printcolumn:name="Hosts",type=string,JSONPath=`.spec.hosts`
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type EdgeRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EdgeRouteSpec `json:"spec"`
	Status PolicyStatus  `json:"status,omitempty"`
}

// EdgeRouteSpec is what a service team says about its route.
type EdgeRouteSpec struct {
	// Hosts the route serves (HTTP Host / :authority). Empty means every host.
	// +optional
	Hosts []string `json:"hosts,omitempty"`
	// Match selects the requests of this route.
	Match RouteMatch `json:"match"`
	// Backend is where matched requests go.
	Backend Backend `json:"backend"`
	// Timeout is the whole request's upstream timeout. Default: Envoy's 15s.
	// +optional
	Timeout Duration `json:"timeout,omitempty"`
	// Retries of failed requests.
	// +optional
	Retries *RetryPolicy `json:"retries,omitempty"`
	// Tracing overrides the global sampling for this route.
	// +optional
	Tracing *TracingPolicy `json:"tracing,omitempty"`
	// SLO is the service level objective of the route.
	// +optional
	SLO *SLOSpec `json:"slo,omitempty"`
}

// RouteMatch selects requests. Exactly one of Prefix, Path and Regex is set.
type RouteMatch struct {
	// +optional
	Prefix string `json:"prefix,omitempty"`
	// +optional
	Path string `json:"path,omitempty"`
	// Regex is an RE2 expression that must match the whole path.
	// +optional
	Regex string `json:"regex,omitempty"`
	// Methods limits the route to these HTTP methods.
	// +optional
	Methods []string `json:"methods,omitempty"`
	// Headers that must all match.
	// +optional
	Headers []HeaderMatch `json:"headers,omitempty"`
}

// HeaderMatch matches one request header. Exactly one of Exact, Prefix, Regex and Present.
type HeaderMatch struct {
	Name string `json:"name"`
	// +optional
	Exact string `json:"exact,omitempty"`
	// +optional
	Prefix string `json:"prefix,omitempty"`
	// +optional
	Regex string `json:"regex,omitempty"`
	// +optional
	Present *bool `json:"present,omitempty"`
}

// Backend is a Kubernetes Service and port, or a fixed address outside Kubernetes.
type Backend struct {
	// Service is the name of a Service in the route's namespace.
	// +optional
	Service string `json:"service,omitempty"`
	// Port of the Service, or of Address when Address has none.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
	// Address is host:port, an IP or a DNS name, for backends outside Kubernetes.
	// +optional
	Address string `json:"address,omitempty"`
}

// RetryPolicy says when Envoy retries a request.
type RetryPolicy struct {
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	Attempts int32 `json:"attempts"`
	// RetryOn lists Envoy retry conditions: 5xx, gateway-error, reset, connect-failure,
	// retriable-4xx, refused-stream, retriable-status-codes. (Not "on": YAML 1.1 reads
	// that key as the boolean true.)
	// +optional
	RetryOn []string `json:"retryOn,omitempty"`
	// PerTryTimeout bounds each attempt.
	// +optional
	PerTryTimeout Duration `json:"perTryTimeout,omitempty"`
}

// TracingPolicy sets trace sampling.
type TracingPolicy struct {
	// SamplingPercent of requests whose spans are sampled, 0 to 100.
	// +optional
	SamplingPercent *float64 `json:"samplingPercent,omitempty"`
}

// SLOSpec is a route's service level objective.
type SLOSpec struct {
	// Window is the SLO period, e.g. 28d or 30d. Default: the EdgeConfig's.
	// +optional
	Window Duration `json:"window,omitempty"`
	// Objectives of the route; names are unique within the route.
	// +kubebuilder:validation:MinItems=1
	Objectives []Objective `json:"objectives"`
}

// Objective is one SLI target.
type Objective struct {
	// Name of the objective, unique in the route, e.g. availability or latency.
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9_-]*$`
	Name string `json:"name"`
	// Indicator is availability or latency. Default: latency when Threshold is set.
	// +optional
	// +kubebuilder:validation:Enum=availability;latency
	Indicator string `json:"indicator,omitempty"`
	// Target is the percentage of good events, e.g. 99.9.
	Target float64 `json:"target"`
	// Threshold is the latency at or under which a request is good (latency only).
	// +optional
	Threshold Duration `json:"threshold,omitempty"`
}

// PolicyStatus is what edgetel says about a policy object.
type PolicyStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Accepted (true, or false with the reason and the field).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// EdgeRouteList is a list of EdgeRoutes.
//
// +kubebuilder:object:root=true
type EdgeRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EdgeRoute `json:"items"`
}
