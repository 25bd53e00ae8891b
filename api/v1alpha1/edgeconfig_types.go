package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EdgeConfig is the platform team's global policy: listeners, TLS, the sink, what the access
// log carries, redaction, default sampling and SLO window. There is one per cluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ec,categories=edgetel
type EdgeConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EdgeConfigSpec `json:"spec"`
	Status PolicyStatus   `json:"status,omitempty"`
}

// EdgeConfigSpec is the global policy.
type EdgeConfigSpec struct {
	// Listeners of the edge. Default: one plain HTTP listener on 0.0.0.0:10000.
	// +optional
	Listeners []Listener `json:"listeners,omitempty"`
	// Sink is where Envoy sends access logs, stats and spans.
	// +optional
	Sink SinkSpec `json:"sink,omitempty"`
	// AccessLog says which request headers the access log carries (traceparent always).
	// +optional
	AccessLog AccessLogSpec `json:"accessLog,omitempty"`
	// Redaction of sensitive request data before it leaves the sink.
	// +optional
	Redaction RedactionSpec `json:"redaction,omitempty"`
	// Tracing is the default sampling for routes that do not set their own.
	// +optional
	Tracing TracingPolicy `json:"tracing,omitempty"`
	// SLO holds defaults for routes' SLOs.
	// +optional
	SLO SLODefaults `json:"slo,omitempty"`
}

// Listener is one port of the edge.
type Listener struct {
	// Name of the listener, unique.
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9-]*$`
	Name string `json:"name"`
	// Address to bind. Default 0.0.0.0.
	// +optional
	Address string `json:"address,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
	// TLS terminates TLS on the listener with a certificate from an SDS secret.
	// +optional
	TLS *ListenerTLS `json:"tls,omitempty"`
}

// ListenerTLS names the certificate of a listener.
type ListenerTLS struct {
	// SecretName is a kubernetes.io/tls Secret (or a file pair named by CertFile and KeyFile).
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// +optional
	CertFile string `json:"certFile,omitempty"`
	// +optional
	KeyFile string `json:"keyFile,omitempty"`
}

// SinkSpec locates the edgetel sink.
type SinkSpec struct {
	// Address host:port of the sink's gRPC port outside Kubernetes. Default 127.0.0.1:4317.
	// +optional
	Address string `json:"address,omitempty"`
	// Service is the sink's Service (namespace/name) under Kubernetes; its endpoints are
	// spread over Envoy nodes by rendezvous hashing.
	// +optional
	Service string `json:"service,omitempty"`
	// Port of the sink Service. Default 4317.
	// +optional
	Port int32 `json:"port,omitempty"`
}

// AccessLogSpec configures the access log.
type AccessLogSpec struct {
	// Protocol is the Envoy access logger that sends to the sink: als, the gRPC access-log
	// service (envoy.access_loggers.http_grpc), or otlp, Envoy's OpenTelemetry access logger
	// (envoy.access_loggers.open_telemetry). The sink reads both into the same records.
	// Default als.
	// +kubebuilder:validation:Enum=als;otlp
	// +optional
	Protocol string `json:"protocol,omitempty"`
	// RequestHeaders the access log records besides traceparent.
	// +optional
	RequestHeaders []string `json:"requestHeaders,omitempty"`
	// BufferSize in bytes before Envoy flushes a batch. Default 16384.
	// +optional
	BufferSize int32 `json:"bufferSize,omitempty"`
	// FlushInterval of the access-log batches. Default 1s.
	// +optional
	FlushInterval Duration `json:"flushInterval,omitempty"`
}

// RedactionSpec lists what never leaves the sink in clear. authorization and cookie headers
// and query strings are always redacted; this adds to them.
type RedactionSpec struct {
	// +optional
	Headers []string `json:"headers,omitempty"`
	// KeepQueryStrings turns off the redaction of query strings.
	// +optional
	KeepQueryStrings bool `json:"keepQueryStrings,omitempty"`
}

// SLODefaults are the defaults of every route's SLO.
type SLODefaults struct {
	// Window is the default SLO window. Default 28d.
	// +optional
	Window Duration `json:"window,omitempty"`
}

// EdgeConfigList is a list of EdgeConfigs.
//
// +kubebuilder:object:root=true
type EdgeConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EdgeConfig `json:"items"`
}
