package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/edgetel/edgetel/api/v1alpha1"
	"github.com/edgetel/edgetel/model"
)

// Defaults of the global policy, used when no EdgeConfig is given or it leaves a field unset.
const (
	DefaultListenerPort   = 10000
	DefaultSinkAddress    = "127.0.0.1:4317"
	DefaultSinkPort       = 4317
	DefaultBufferSize     = 16384
	DefaultFlushInterval  = time.Second
	DefaultSamplingPct    = 1.0
	DefaultSLOWindow      = 28 * 24 * time.Hour
	maxAccessLogHeaders   = 32
	maxAccessLogBufferLen = 1 << 20
)

// alwaysLogged and alwaysRedacted are not the platform team's to turn off: traceparent links a
// log line to its trace; credentials never leave the sink in clear.
var (
	alwaysLogged   = []string{"traceparent"}
	alwaysRedacted = []string{"authorization", "cookie", "proxy-authorization", "set-cookie"}
)

// buildGlobal validates the EdgeConfig (nil for none) and returns the model's global part:
// an Edge with no routes.
func buildGlobal(src model.Source, ec *v1alpha1.EdgeConfig) (model.Edge, error) {
	var spec v1alpha1.EdgeConfigSpec
	if ec != nil {
		spec = ec.Spec
	}
	ps := &problems{src: src}
	e := model.Edge{Source: src, DefaultSamplingPercent: DefaultSamplingPct}
	e.Listeners = ps.listeners("spec.listeners", spec.Listeners)
	e.Sink = ps.sink("spec.sink", spec.Sink)
	e.AccessLog = ps.accessLog("spec.accessLog", spec.AccessLog)
	e.Redaction = ps.redaction("spec.redaction", spec.Redaction)
	if p := spec.Tracing.SamplingPercent; p != nil {
		e.DefaultSamplingPercent = ps.percent("spec.tracing.samplingPercent", *p)
	}
	return e, ps.err()
}

// sloWindow returns the default SLO window of the EdgeConfig; validated by buildGlobal.
func sloWindow(ec *v1alpha1.EdgeConfig) time.Duration {
	if ec == nil || ec.Spec.SLO.Window == "" {
		return DefaultSLOWindow
	}
	ps := &problems{}
	if w := ps.duration("", ec.Spec.SLO.Window, minSLOWindow, maxSLOWindow); w > 0 {
		return w
	}
	return DefaultSLOWindow
}

func (ps *problems) listeners(field string, ls []v1alpha1.Listener) []model.Listener {
	if len(ls) == 0 {
		return []model.Listener{{Name: "http", Address: "0.0.0.0", Port: DefaultListenerPort}}
	}
	var out []model.Listener
	names, binds := map[string]bool{}, map[string]bool{}
	for i, l := range ls {
		f := fmt.Sprintf("%s[%d]", field, i)
		ml := model.Listener{Name: l.Name, Address: l.Address, Port: uint32(l.Port)}
		if ml.Address == "" {
			ml.Address = "0.0.0.0"
		}
		if !listenerName.MatchString(l.Name) {
			ps.invalid(f+".name", "%q must be lower case letters, digits and -, starting with a letter", l.Name)
		}
		if names[l.Name] {
			ps.invalid(f+".name", "%q is used twice", l.Name)
		}
		names[l.Name] = true
		if net.ParseIP(ml.Address) == nil {
			ps.invalid(f+".address", "%q is not an IP address", l.Address)
		}
		if l.Port < 1 || l.Port > 65535 {
			ps.invalid(f+".port", "%d is out of range [1, 65535]", l.Port)
		}
		bind := net.JoinHostPort(ml.Address, strconv.Itoa(int(l.Port)))
		if binds[bind] {
			ps.invalid(f+".port", "%s is bound by another listener", bind)
		}
		binds[bind] = true
		if l.TLS != nil {
			ml.TLS = ps.tls(f+".tls", *l.TLS)
		}
		out = append(out, ml)
	}
	slices.SortFunc(out, func(a, b model.Listener) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// tls validates a listener's certificate: a Secret, or a certificate and key file pair on
// Envoy's disk. The EdgeConfig is cluster-scoped, so a Secret is named with its namespace.
func (ps *problems) tls(field string, t v1alpha1.ListenerTLS) *model.TLS {
	if (t.SecretName == "") == (t.CertFile == "" && t.KeyFile == "") || (t.CertFile == "") != (t.KeyFile == "") {
		ps.invalid(field, "set secretName, or both certFile and keyFile")
	}
	if t.SecretName != "" {
		if _, _, ok := splitSecretName(t.SecretName); !ok {
			ps.invalid(field+".secretName", "%q must be namespace/name of a kubernetes.io/tls Secret "+
				"(the EdgeConfig is cluster-scoped, so the namespace is needed)", t.SecretName)
		}
	}
	return &model.TLS{SecretName: t.SecretName, CertFile: t.CertFile, KeyFile: t.KeyFile}
}

// splitSecretName splits namespace/name of a Secret, and reports whether both are valid.
func splitSecretName(s string) (namespace, name string, ok bool) {
	namespace, name, ok = strings.Cut(s, "/")
	ok = ok && len(validation.IsDNS1123Label(namespace)) == 0 && len(validation.IsDNS1123Subdomain(name)) == 0
	return namespace, name, ok
}

func (ps *problems) sink(field string, s v1alpha1.SinkSpec) model.Sink {
	if s.Service != "" {
		ns, name, ok := strings.Cut(s.Service, "/")
		if !ok || len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1035Label(name)) > 0 {
			ps.invalid(field+".service", "%q must be namespace/name of a Service", s.Service)
		}
		port := uint32(s.Port)
		if port == 0 {
			port = DefaultSinkPort
		}
		return model.Sink{Service: s.Service, Port: port}
	}
	addr := s.Address
	if addr == "" {
		addr = DefaultSinkAddress
	}
	host, p, err := net.SplitHostPort(addr)
	n, perr := strconv.ParseUint(p, 10, 16)
	if err != nil || perr != nil || n == 0 || host == "" {
		ps.invalid(field+".address", "%q must be host:port", s.Address)
	}
	return model.Sink{Host: host, Port: uint32(n)}
}

func (ps *problems) accessLog(field string, a v1alpha1.AccessLogSpec) model.AccessLog {
	out := model.AccessLog{Protocol: model.AccessLogALS, BufferSize: DefaultBufferSize, FlushInterval: DefaultFlushInterval}
	switch a.Protocol {
	case "", model.AccessLogALS:
	case model.AccessLogOTLP:
		out.Protocol = model.AccessLogOTLP
	default:
		ps.invalid(field+".protocol", "%q is not an access-log protocol (want %q or %q)", a.Protocol, model.AccessLogALS, model.AccessLogOTLP)
	}
	out.RequestHeaders = ps.headerNames(field+".requestHeaders", a.RequestHeaders, alwaysLogged)
	if len(out.RequestHeaders) > maxAccessLogHeaders {
		ps.invalid(field+".requestHeaders", "lists %d headers, at most %d are allowed", len(out.RequestHeaders), maxAccessLogHeaders)
	}
	if a.BufferSize != 0 {
		if a.BufferSize < 1024 || a.BufferSize > maxAccessLogBufferLen {
			ps.invalid(field+".bufferSize", "%d is out of range [1024, %d]", a.BufferSize, maxAccessLogBufferLen)
		}
		out.BufferSize = uint32(a.BufferSize)
	}
	if d := ps.duration(field+".flushInterval", a.FlushInterval, 10*time.Millisecond, time.Minute); d > 0 {
		out.FlushInterval = d
	}
	return out
}

func (ps *problems) redaction(field string, r v1alpha1.RedactionSpec) model.Redaction {
	return model.Redaction{
		Headers:      ps.headerNames(field+".headers", r.Headers, alwaysRedacted),
		QueryStrings: !r.KeepQueryStrings,
	}
}

// headerNames validates header names and returns them lower-cased, merged with always, sorted.
func (ps *problems) headerNames(field string, names, always []string) []string {
	out := slices.Clone(always)
	for i, h := range names {
		if len(validation.IsHTTPHeaderName(h)) > 0 || h == "" {
			ps.invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not a header name", h)
			continue
		}
		out = append(out, strings.ToLower(h))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
