package loki

import (
	"encoding/hex"
	"strconv"
	"unicode/utf8"

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

// stream is one Loki stream: a set of label values. Its labels JSON is built once.
type stream struct {
	labels string // {"job":"edgetel",...}, as the push body carries it
}

// streamSet holds the streams of one route, one per status class.
type streamSet [len(statusClasses)]*stream

// routing maps a model's routes to their streams; built once per model, then read-only.
type routing struct {
	routes      map[string]*streamSet
	unmatched   *streamSet
	redactQuery bool
}

// newRouting builds the streams for e's routes. Label values come only from the model and
// the configuration, never from a request: there are (routes+1) × 6 streams at most.
func newRouting(e *model.Edge, nodeGroup string) *routing {
	set := func(route string) *streamSet {
		var s streamSet
		for i, class := range statusClasses {
			b := []byte(`{"job":"edgetel","node_group":`)
			b = appendString(b, nodeGroup)
			b = append(b, `,"route":`...)
			b = appendString(b, route)
			b = append(b, `,"status_class":`...)
			b = appendString(b, class)
			s[i] = &stream{labels: string(append(b, '}'))}
		}
		return &s
	}
	rt := &routing{routes: map[string]*streamSet{}, unmatched: set(model.UnmatchedRoute), redactQuery: true}
	if e == nil {
		return rt
	}
	for _, r := range e.Routes {
		rt.routes[r.Name] = set(r.Name)
	}
	// A model built by config always lists authorization and cookie; one that lists no
	// header at all was not, and gets the safe default.
	rt.redactQuery = e.Redaction.QueryStrings || len(e.Redaction.Headers) == 0
	return rt
}

// streamOf returns the stream of r: its route if the model has it, unmatched otherwise.
func (rt *routing) streamOf(r *als.Record) *stream {
	set := rt.unmatched
	if s, ok := rt.routes[string(r.RouteName)]; ok { // no allocation: the compiler sees the lookup
		set = s
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
	b = appendBytes(b, r.UpstreamHost)
	b = append(b, `,"request_id":`...)
	b = appendBytes(b, r.RequestID)
	if r.HasTrace {
		b = append(b, `,"trace_id":"`...)
		b = hex.AppendEncode(b, r.TraceID[:])
		b = append(b, `","span_id":"`...)
		b = hex.AppendEncode(b, r.SpanID[:])
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

// appendString is appendBytes for a string (labels; not on the per-record path).
func appendString(b []byte, s string) []byte { return appendBytes(b, []byte(s)) }
