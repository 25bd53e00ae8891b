package xds

import (
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/edgetel/edgetel/model"
)

// deterministic marshalling keeps an Any's bytes, and so the snapshot's content hash, stable.
var deterministic = proto.MarshalOptions{Deterministic: true}

// mustAny packs one of the translator's own messages. Marshalling fails only on a string
// that is not UTF-8, and translate rejects those before building anything (validUTF8), so
// a failure here is a bug in this package.
func mustAny(m proto.Message) *anypb.Any {
	b, err := deterministic.Marshal(m)
	if err != nil {
		panic("xds: marshalling " + string(m.ProtoReflect().Descriptor().FullName()) + ": " + err.Error())
	}
	return &anypb.Any{TypeUrl: "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName()), Value: b}
}

// routeUTF8 reports whether every string of r that reaches Envoy is UTF-8: protobuf refuses
// to marshal any other, and the failure would surface only when the server sends it.
func routeUTF8(r *model.Route) bool {
	ok := allUTF8(r.Name, r.Match.Prefix, r.Match.Path, r.Match.Regex, r.Backend.Cluster, r.Backend.Host) &&
		allUTF8(r.Hosts...) && allUTF8(r.Match.Methods...)
	if r.Retries != nil {
		ok = ok && allUTF8(r.Retries.On...)
	}
	for _, h := range r.Match.Headers {
		ok = ok && allUTF8(h.Name, h.Exact, h.Prefix, h.Regex)
	}
	return ok
}

// globalUTF8 is routeUTF8 for the edge's global settings.
func globalUTF8(e *model.Edge) bool {
	ss := []string{e.Sink.Host, e.Sink.Service}
	ss = append(ss, e.AccessLog.RequestHeaders...)
	for _, l := range e.Listeners {
		ss = append(ss, l.Name, l.Address)
		if l.TLS != nil {
			ss = append(ss, l.TLS.SecretName, l.TLS.CertFile, l.TLS.KeyFile)
		}
	}
	return allUTF8(ss...)
}

func allUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
