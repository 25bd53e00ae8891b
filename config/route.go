package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/model"
)

// Limits on policy values. They keep a single policy from producing config Envoy rejects or
// a sink that bloats.
const (
	maxObjectives     = 8
	maxHosts          = 64
	maxRetryAttempts  = 10
	minLatencyTarget  = 50.0
	maxSLOWindow      = 365 * 24 * time.Hour
	minSLOWindow      = time.Hour
	maxRequestTimeout = time.Hour
)

var (
	retryConditions = []string{"5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx",
		"refused-stream", "retriable-status-codes", "envoy-ratelimited"}
	httpMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)

// routeDefaults are the global values a route falls back on.
type routeDefaults struct {
	samplingPercent float64
	sloWindow       time.Duration
}

// buildRoute validates one EdgeRoute and returns its model form, or the problems that make it
// unacceptable. It looks at this policy alone; conflicts between policies are found later.
func buildRoute(src model.Source, er *v1alpha1.EdgeRoute, def routeDefaults) (model.Route, error) {
	ps := &problems{src: src}
	spec := &er.Spec
	r := model.Route{
		Name:            er.Namespace + "/" + er.Name,
		Namespace:       er.Namespace,
		Source:          src,
		SamplingPercent: def.samplingPercent,
	}
	for _, msg := range validation.IsDNS1123Subdomain(er.Name) {
		ps.invalid("metadata.name", "%q: %s", er.Name, msg)
	}
	for _, msg := range validation.IsDNS1123Label(er.Namespace) {
		ps.invalid("metadata.namespace", "%q: %s", er.Namespace, msg)
	}
	r.Hosts = ps.hosts("spec.hosts", spec.Hosts)
	r.Match = ps.match("spec.match", spec.Match)
	r.Backend = ps.backend("spec.backend", er.Namespace, spec.Backend)
	r.Timeout = ps.duration("spec.timeout", spec.Timeout, time.Millisecond, maxRequestTimeout)
	if spec.Retries != nil {
		r.Retries = ps.retries("spec.retries", spec.Retries)
	}
	if spec.Tracing != nil && spec.Tracing.SamplingPercent != nil {
		r.SamplingPercent = ps.percent("spec.tracing.samplingPercent", *spec.Tracing.SamplingPercent)
	}
	if spec.SLO != nil {
		r.SLO = ps.slo("spec.slo", spec.SLO, def.sloWindow)
	}
	return r, ps.err()
}

func (ps *problems) hosts(field string, hosts []string) []string {
	if len(hosts) > maxHosts {
		ps.invalid(field, "has %d hosts, at most %d are allowed", len(hosts), maxHosts)
		return nil
	}
	out := make([]string, 0, len(hosts))
	for i, h := range hosts {
		h = strings.ToLower(h)
		name := strings.TrimPrefix(h, "*.")
		if host, port, err := net.SplitHostPort(name); err == nil {
			if _, perr := strconv.ParseUint(port, 10, 16); perr != nil {
				ps.invalid(fmt.Sprintf("%s[%d]", field, i), "%q has a bad port", hosts[i])
				continue
			}
			name = host
		}
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 && net.ParseIP(name) == nil {
			ps.invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not a host name: %s", hosts[i], msgs[0])
			continue
		}
		if slices.Contains(out, h) {
			ps.invalid(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", hosts[i])
			continue
		}
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

func (ps *problems) match(field string, m v1alpha1.RouteMatch) model.Match {
	out := model.Match{Prefix: m.Prefix, Path: m.Path, Regex: m.Regex}
	set := 0
	for _, s := range []string{m.Prefix, m.Path, m.Regex} {
		if s != "" {
			set++
		}
	}
	switch {
	case set != 1:
		ps.invalid(field, "set exactly one of prefix, path and regex (%d are set)", set)
	case m.Prefix != "" && m.Prefix[0] != '/':
		ps.invalid(field+".prefix", "%q must start with /", m.Prefix)
	case m.Path != "" && m.Path[0] != '/':
		ps.invalid(field+".path", "%q must start with /", m.Path)
	case m.Regex != "":
		if _, err := regexp.Compile(m.Regex); err != nil {
			ps.invalid(field+".regex", "%q is not an RE2 expression: %v", m.Regex, err)
		}
	}
	for i, meth := range m.Methods {
		up := strings.ToUpper(meth)
		if !slices.Contains(httpMethods, up) {
			ps.invalid(fmt.Sprintf("%s.methods[%d]", field, i), "%q is not an HTTP method", meth)
			continue
		}
		if !slices.Contains(out.Methods, up) {
			out.Methods = append(out.Methods, up)
		}
	}
	slices.Sort(out.Methods)
	for i, h := range m.Headers {
		out.Headers = append(out.Headers, ps.header(fmt.Sprintf("%s.headers[%d]", field, i), h))
	}
	return out
}

func (ps *problems) header(field string, h v1alpha1.HeaderMatch) model.HeaderMatch {
	out := model.HeaderMatch{Name: strings.ToLower(h.Name), Exact: h.Exact, Prefix: h.Prefix, Regex: h.Regex}
	if msgs := validation.IsHTTPHeaderName(h.Name); len(msgs) > 0 || h.Name == "" {
		ps.invalid(field+".name", "%q is not a header name", h.Name)
	}
	set := 0
	for _, s := range []string{h.Exact, h.Prefix, h.Regex} {
		if s != "" {
			set++
		}
	}
	if h.Present != nil {
		set++
		out.Present = *h.Present
	}
	if set != 1 {
		ps.invalid(field, "set exactly one of exact, prefix, regex and present (%d are set)", set)
	}
	if h.Regex != "" {
		if _, err := regexp.Compile(h.Regex); err != nil {
			ps.invalid(field+".regex", "%q is not an RE2 expression: %v", h.Regex, err)
		}
	}
	return out
}

func (ps *problems) backend(field, namespace string, b v1alpha1.Backend) model.Backend {
	switch {
	case b.Service != "" && b.Address != "":
		ps.invalid(field, "set service or address, not both")
	case b.Service != "":
		for _, msg := range validation.IsDNS1035Label(b.Service) {
			ps.invalid(field+".service", "%q: %s", b.Service, msg)
		}
		if b.Port == 0 {
			ps.invalid(field+".port", "is required with service")
		}
		return model.Backend{Cluster: clusterName("k8s", namespace, b.Service, uint32(b.Port)),
			Service: b.Service, Port: uint32(b.Port)}
	case b.Address != "":
		host, port := b.Address, uint32(b.Port)
		if h, p, err := net.SplitHostPort(b.Address); err == nil {
			n, perr := strconv.ParseUint(p, 10, 16)
			if perr != nil || n == 0 {
				ps.invalid(field+".address", "%q has a bad port", b.Address)
			}
			host, port = h, uint32(n)
		}
		if port == 0 {
			ps.invalid(field+".address", "%q has no port; write host:port or set port", b.Address)
		}
		if net.ParseIP(host) == nil && len(validation.IsDNS1123Subdomain(host)) > 0 {
			ps.invalid(field+".address", "%q is neither an IP address nor a DNS name", b.Address)
		}
		return model.Backend{Cluster: clusterName("ext", host, port), Host: host, Port: port}
	default:
		ps.invalid(field, "set service (with port) or address")
	}
	return model.Backend{}
}

// clusterName names an Envoy cluster from its parts. Dots and colons are replaced because
// Envoy's stat tag extraction takes the cluster name up to the first dot.
func clusterName(kind string, parts ...any) string {
	var b strings.Builder
	b.WriteString(kind)
	for _, p := range parts {
		b.WriteByte('_')
		fmt.Fprint(&b, p)
	}
	return strings.NewReplacer(".", "_", ":", "_", "/", "_").Replace(b.String())
}

func (ps *problems) retries(field string, r *v1alpha1.RetryPolicy) *model.Retries {
	if r.Attempts < 0 || r.Attempts > maxRetryAttempts {
		ps.invalid(field+".attempts", "%d is out of range [0, %d]", r.Attempts, maxRetryAttempts)
	}
	out := &model.Retries{Attempts: uint32(max(r.Attempts, 0))}
	for i, on := range r.RetryOn {
		if !slices.Contains(retryConditions, on) {
			ps.invalid(fmt.Sprintf("%s.retryOn[%d]", field, i), "%q is not one of %s", on, strings.Join(retryConditions, ", "))
			continue
		}
		if !slices.Contains(out.On, on) {
			out.On = append(out.On, on)
		}
	}
	slices.Sort(out.On)
	if len(out.On) == 0 && r.Attempts > 0 {
		out.On = []string{"connect-failure", "reset"}
	}
	out.PerTryTimeout = ps.duration(field+".perTryTimeout", r.PerTryTimeout, time.Millisecond, maxRequestTimeout)
	return out
}

func (ps *problems) percent(field string, p float64) float64 {
	if p < 0 || p > 100 || p != p {
		ps.invalid(field, "%v is out of range [0, 100]", p)
		return 0
	}
	return p
}
