package loki

import (
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	promodel "github.com/prometheus/common/model"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/model"
)

// redactedQuery replaces a path's query string when query strings are redacted.
const redactedQuery = "?REDACTED"

// Status classes, the status_class label; a status outside 100–599 (0: no response was
// sent) is "other".
var statusClasses = [...]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status uint32) int {
	if status >= 100 && status < 600 {
		return int(status / 100)
	}
	return 0
}

// flagCodes are Envoy's short codes by bit, "" for bits this build does not know.
var flagCodes = func() (codes [64]string) {
	for i := range codes {
		codes[i] = als.ResponseFlags(1 << i).String()
	}
	return codes
}()

// stream is one Loki stream: a set of label values, built once and shared read-only by
// every line of the stream (the client reads it, never writes it).
type stream struct {
	labels promodel.LabelSet
}

// streamSet holds the streams of one route in one node group, one per status class.
type streamSet [len(statusClasses)]*stream

// OtherNodeGroup is the node_group of lines from node clusters beyond Config.MaxNodeGroups:
// the label's values come from Envoy's identifiers, so they are capped.
const OtherNodeGroup = "other"

// routing maps a model's routes to their streams, per node group. It is built once per
// model; groups are added as node clusters are first seen, up to maxGroups, under the
// exporter's format lock.
type routing struct {
	routeNames  []string // the model's routes, unmatched last
	groups      map[string]map[string]*streamSet
	maxGroups   int
	defGroup    string // for a record without a node cluster
	redactQuery bool
}

// newRouting prepares the streams for e's routes. Label values come from the model, the
// configuration and Envoy's node clusters (capped), never from a request.
func newRouting(e *model.Edge, defaultGroup string, maxGroups int) *routing {
	rt := &routing{groups: map[string]map[string]*streamSet{}, maxGroups: maxGroups, defGroup: defaultGroup, redactQuery: true}
	if e != nil {
		for _, r := range e.Routes {
			rt.routeNames = append(rt.routeNames, r.Name)
		}
		// A model built by config always lists authorization and cookie; one that lists no
		// header at all was not, and gets the safe default.
		rt.redactQuery = e.Redaction.QueryStrings || len(e.Redaction.Headers) == 0
	}
	rt.routeNames = append(rt.routeNames, model.UnmatchedRoute)
	return rt
}

// group returns the streams of r's node group, building them on first sight. Lookups of
// known groups allocate nothing.
func (rt *routing) group(cluster []byte) map[string]*streamSet {
	var g map[string]*streamSet
	var ok bool
	if len(cluster) == 0 {
		g, ok = rt.groups[rt.defGroup]
	} else {
		g, ok = rt.groups[string(cluster)]
	}
	if ok {
		return g
	}
	name := rt.defGroup
	if len(cluster) > 0 {
		name = string(cluster)
	}
	if len(rt.groups) >= rt.maxGroups {
		if g, ok := rt.groups[OtherNodeGroup]; ok {
			return g
		}
		name = OtherNodeGroup
	}
	g = make(map[string]*streamSet, len(rt.routeNames))
	for _, route := range rt.routeNames {
		var set streamSet
		for i, class := range statusClasses {
			set[i] = &stream{labels: promodel.LabelSet{
				"job": "edgetel", "node_group": promodel.LabelValue(name),
				"route": promodel.LabelValue(route), "status_class": promodel.LabelValue(class),
			}}
		}
		g[route] = &set
	}
	rt.groups[name] = g
	return g
}

// streamOf returns the stream of r: its node group's, its route's if the model has it,
// unmatched otherwise. The caller holds the exporter's format lock.
func (rt *routing) streamOf(r *als.Record) *stream {
	g := rt.group(r.NodeCluster)
	set, ok := g[string(r.RouteName)]
	if !ok {
		set = g[model.UnmatchedRoute]
	}
	return set[statusClass(r.Status)]
}

// appendLine appends r's log line, a JSON object, to b. It allocates nothing beyond
// growing b. Headers are never part of it (authorization and cookie included), and the
// query string is replaced by ?REDACTED when redactQuery is set.
func appendLine(b []byte, r *als.Record, redactQuery bool) []byte {
	b = append(b, `{"method":`...)
	b = appendBytes(b, r.Method)
	b = append(b, `,"path":`...)
	path := r.Path
	cut := false
	if redactQuery {
		for i, c := range path {
			if c == '?' {
				path, cut = path[:i], true
				break
			}
		}
	}
	b = appendBytes(b, path)
	if cut {
		b = b[:len(b)-1]
		b = append(b, redactedQuery...)
		b = append(b, '"')
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendUint(b, uint64(r.Status), 10)
	b = append(b, `,"flags":"`...)
	b = appendFlags(b, r.Flags)
	b = append(b, `","duration_ms":`...)
	b = appendMillis(b, r.Duration.Microseconds())
	b = append(b, `,"bytes_received":`...)
	b = strconv.AppendUint(b, r.BytesReceived, 10)
	b = append(b, `,"bytes_sent":`...)
	b = strconv.AppendUint(b, r.BytesSent, 10)
	b = append(b, `,"upstream_cluster":`...)
	b = appendBytes(b, r.UpstreamCluster)
	b = append(b, `,"upstream_host":`...)
	b = appendHost(b, r.UpstreamHost)
	b = append(b, `,"request_id":`...)
	b = appendBytes(b, r.RequestID)
	if r.HasTrace {
		trace, span := r.Trace()
		b = append(b, `,"trace_id":"`...)
		b = hex.AppendEncode(b, trace[:])
		b = append(b, `","span_id":"`...)
		b = hex.AppendEncode(b, span[:])
		b = append(b, '"')
	}
	b = append(b, `,"node":`...)
	b = appendBytes(b, r.Node)
	return append(b, '}')
}

// appendFlags appends Envoy's %RESPONSE_FLAGS% rendering: codes joined by ",", or "-".
func appendFlags(b []byte, f als.ResponseFlags) []byte {
	if f == 0 {
		return append(b, '-')
	}
	first := true
	for i := range flagCodes {
		if f&(1<<i) == 0 || flagCodes[i] == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		b, first = append(b, flagCodes[i]...), false
	}
	return b
}

// appendMillis appends µs as milliseconds with three decimals.
func appendMillis(b []byte, us int64) []byte {
	if us < 0 {
		b, us = append(b, '-'), -us
	}
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

const hexDigits = "0123456789abcdef"

// appendBytes appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendBytes(b, s []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// appendHost appends h as a JSON string. It is rendered past the line's end, then escaped
// from there into its place (a host is bytes from the wire, as any field): the rendering
// stays HostPort's, and needs no memory but the line's.
func appendHost(b []byte, h als.HostPort) []byte {
	at := len(b)
	b = h.Append(b)
	n := len(b) - at
	// appendBytes writes past b[at+n:], so it never overwrites what it reads, even when it
	// does not move b.
	b = appendBytes(b, b[at:])
	return append(b[:at], b[at+n:]...)
}

// appendString is appendBytes for a string (labels; not on the per-record path).
func appendString(b []byte, s string) []byte { return appendBytes(b, []byte(s)) }
