// Package model is edgetel's intermediate representation: the validated, merged form of every
// policy in force. Package config builds it; the xDS translator, the rule and dashboard
// generators and the sink all read it, never the raw policies.
//
// A model is plain data and is never mutated once built: a new policy set builds a new model.
package model

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"
)

// UnmatchedRoute is the route name under which requests that match no route are counted.
const UnmatchedRoute = "unmatched"

// Edge is the whole edge: the global settings and every route, sorted by name.
type Edge struct {
	Listeners []Listener
	Routes    []Route
	Sink      Sink
	AccessLog AccessLog
	Redaction Redaction
	// DefaultSamplingPercent applies to routes that set no sampling of their own.
	DefaultSamplingPercent float64
	// Source says where the global policy came from; empty for built-in defaults.
	Source Source
}

// Source is where a policy came from: a file (and the document index in it) or a Kubernetes
// object. It is carried so that every diagnostic and the status page can point at it.
type Source struct {
	// File is the path of a YAML file; Doc the 0-based document within it.
	File string
	Doc  int
	// Kind, Namespace and Name identify a Kubernetes object (or the policy in a file).
	Kind      string
	Namespace string
	Name      string
	// Generation of a Kubernetes object.
	Generation int64
}

// String names the source the way a person looks for it: "routes/shop.yaml#1 (EdgeRoute
// shop/checkout)" or "EdgeRoute shop/checkout".
func (s Source) String() string {
	obj := s.Kind + " " + s.Name
	if s.Namespace != "" {
		obj = s.Kind + " " + s.Namespace + "/" + s.Name
	}
	if s.File == "" {
		return obj
	}
	loc := s.File
	if s.Doc > 0 {
		loc += "#" + strconv.Itoa(s.Doc)
	}
	if s.Kind == "" {
		return loc
	}
	return loc + " (" + obj + ")"
}

// Listener is one port of the edge.
type Listener struct {
	Name    string
	Address string
	Port    uint32
	TLS     *TLS
}

// TLS is a listener's certificate, by Kubernetes Secret or by files.
type TLS struct {
	SecretName string
	CertFile   string
	KeyFile    string
}

// Secret is the certificate of a listener's TLS, PEM-encoded: the certificate chain and its
// private key, as a kubernetes.io/tls Secret holds them (tls.crt, tls.key). Unlike the rest
// of the model it is not policy, and it is secret: it reaches the xDS server apart from the
// model, and every way of printing it (String, GoString, fmt's verbs, slog, JSON) shows the
// sizes only, so that no log line or status page can leak the key.
type Secret struct {
	CertChain  []byte
	PrivateKey []byte
}

// String says what the secret holds without its contents.
func (s Secret) String() string {
	return "Secret{certChain: " + strconv.Itoa(len(s.CertChain)) + " bytes, privateKey: " +
		strconv.Itoa(len(s.PrivateKey)) + " bytes, redacted}"
}

// GoString is String, so that %#v redacts too.
func (s Secret) GoString() string { return s.String() }

// Format is String for every verb (%v, %+v, %s, %x, %q, ...).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue is String for slog's handlers, which would otherwise print the fields.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON is String, as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// Sink says where Envoy sends telemetry.
type Sink struct {
	// Host and Port of a fixed sink address (outside Kubernetes).
	Host string
	Port uint32
	// Service is namespace/name of the sink's Kubernetes Service, when set.
	Service string
}

// Access-log protocols, AccessLog.Protocol.
const (
	AccessLogALS  = "als"  // envoy.access_loggers.http_grpc
	AccessLogOTLP = "otlp" // envoy.access_loggers.open_telemetry
)

// AccessLog configures Envoy's access logger.
type AccessLog struct {
	// Protocol is AccessLogALS or AccessLogOTLP.
	Protocol string
	// RequestHeaders logged with each entry; always includes traceparent. Sorted, lower case.
	RequestHeaders []string
	BufferSize     uint32
	FlushInterval  time.Duration
}

// Redaction lists what the sink never exports in clear.
type Redaction struct {
	// Headers redacted, lower case, sorted; always includes authorization and cookie.
	Headers []string
	// QueryStrings are redacted from paths unless the platform team turned that off.
	QueryStrings bool
}

// Route is one EdgeRoute in force.
type Route struct {
	// Name is namespace/name; Envoy's route_name and the SLI key.
	Name      string
	Namespace string
	// Hosts served; empty means every host.
	Hosts   []string
	Match   Match
	Backend Backend
	// Timeout is zero for Envoy's default.
	Timeout         time.Duration
	Retries         *Retries
	SamplingPercent float64
	// SLO is nil for a route without objectives.
	SLO    *SLO
	Source Source
}

// Match selects a route's requests; exactly one of Prefix, Path and Regex is set.
type Match struct {
	Prefix  string
	Path    string
	Regex   string
	Methods []string
	Headers []HeaderMatch
}

// HeaderMatch matches one header; exactly one of the matchers is set.
type HeaderMatch struct {
	Name    string
	Exact   string
	Prefix  string
	Regex   string
	Present bool
}

// Backend is where a route's requests go.
type Backend struct {
	// Cluster is the Envoy cluster name, shared by routes with the same backend.
	Cluster string
	// Service and Port name a Kubernetes Service in the route's namespace (EDS).
	Service string
	// Host is an IP or DNS name outside Kubernetes (STATIC or STRICT_DNS).
	Host string
	Port uint32
}

// IsKubernetes reports whether the backend's endpoints come from EndpointSlices.
func (b Backend) IsKubernetes() bool { return b.Service != "" }

// Retries is a route's retry policy.
type Retries struct {
	Attempts      uint32
	On            []string
	PerTryTimeout time.Duration
}

// SLO is a route's service level objective.
type SLO struct {
	Window     time.Duration
	Objectives []Objective
}

// Indicator is what an objective measures.
type Indicator string

// Indicators.
const (
	Availability Indicator = "availability"
	Latency      Indicator = "latency"
)

// Objective is one SLI target of a route.
type Objective struct {
	Name      string
	Indicator Indicator
	// Target is the fraction of good events, e.g. 0.999.
	Target float64
	// Threshold is the latency at or under which a request is good (Latency only).
	Threshold time.Duration
}

// ErrorBudget is the fraction of events allowed to be bad, 1 - Target.
func (o Objective) ErrorBudget() float64 { return 1 - o.Target }

// Route returns the route with the given name, or nil.
func (e *Edge) Route(name string) *Route {
	lo, hi := 0, len(e.Routes)
	for lo < hi {
		mid := (lo + hi) / 2
		switch {
		case e.Routes[mid].Name == name:
			return &e.Routes[mid]
		case e.Routes[mid].Name < name:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return nil
}

// Clusters returns the distinct backends of the routes, sorted by cluster name.
func (e *Edge) Clusters() []Backend {
	seen := make(map[string]bool, len(e.Routes))
	var out []Backend
	for _, r := range e.Routes {
		if seen[r.Backend.Cluster] {
			continue
		}
		seen[r.Backend.Cluster] = true
		out = append(out, r.Backend)
	}
	slices.SortFunc(out, func(a, b Backend) int { return cmp.Compare(a.Cluster, b.Cluster) })
	return out
}

// Endpoint is one ready address of a Kubernetes backend or of the sink. Endpoints are not
// policy: they change often and reach the xDS server apart from the model, so that their
// churn never rebuilds listeners and routes.
type Endpoint struct {
	Address string
	Port    uint32
	// Zone is the topology zone, when known; it becomes the Envoy locality.
	Zone string
}
