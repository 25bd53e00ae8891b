package jaegertest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ErrNotFound is returned by Trace when Jaeger has no trace with that ID (yet).
var ErrNotFound = errors.New("trace not found")

// Span is one stored span, as the query API returns it.
type Span struct {
	TraceID      string // 32 lowercase hex digits
	SpanID       string // 16 lowercase hex digits
	ParentSpanID string // empty for a root span
	Name         string
	Kind         int // OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer
	Start, End   time.Time
	StatusCode   int // OTLP StatusCode: 0 unset, 1 ok, 2 error
	StatusMsg    string
	// Attributes are the span's attributes. Values are string, bool, int64, float64, []byte,
	// []any or map[string]any, as in OTLP's AnyValue.
	Attributes map[string]any
	// Resource holds the resource attributes (service.name, ...).
	Resource map[string]any
}

// Service returns the span's resource attribute service.name.
func (s Span) Service() string { v, _ := s.Resource["service.name"].(string); return v }

// Attr returns the attribute as a string (fmt's %v for non-strings), or "" if absent.
func (s Span) Attr(key string) string {
	v, ok := s.Attributes[key]
	if !ok {
		return ""
	}
	if str, ok := v.(string); ok {
		return str
	}
	return fmt.Sprint(v)
}

// Trace fetches a trace by its hex ID via GET /api/v3/traces/{id} and returns its spans,
// ordered by start time. It returns an error wrapping ErrNotFound if Jaeger has no such trace.
func (j *Jaeger) Trace(t testing.TB, traceIDHex string) ([]Span, error) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(j.QueryURL + "/api/v3/traces/" + strings.ToLower(traceIDHex))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("trace %s: %w", traceIDHex, ErrNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("trace %s: %s: %s", traceIDHex, resp.Status, strings.TrimSpace(string(body)))
	}
	return parseTrace(body)
}

// otlpJSON is the subset of OTLP/JSON (TracesData) that Trace reads.
type otlpJSON struct {
	Result struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes []keyValue `json:"attributes"`
			} `json:"resource"`
			ScopeSpans []struct {
				Spans []struct {
					TraceID           string          `json:"traceId"`
					SpanID            string          `json:"spanId"`
					ParentSpanID      string          `json:"parentSpanId"`
					Name              string          `json:"name"`
					Kind              json.RawMessage `json:"kind"`
					StartTimeUnixNano json.RawMessage `json:"startTimeUnixNano"`
					EndTimeUnixNano   json.RawMessage `json:"endTimeUnixNano"`
					Attributes        []keyValue      `json:"attributes"`
					Status            struct {
						Code    json.RawMessage `json:"code"`
						Message string          `json:"message"`
					} `json:"status"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	} `json:"result"`
}

type keyValue struct {
	Key   string   `json:"key"`
	Value anyValue `json:"value"`
}

type anyValue struct {
	StringValue *string         `json:"stringValue"`
	BoolValue   *bool           `json:"boolValue"`
	IntValue    json.RawMessage `json:"intValue"` // a JSON string or number
	DoubleValue *float64        `json:"doubleValue"`
	BytesValue  *string         `json:"bytesValue"` // base64
	ArrayValue  *struct {
		Values []anyValue `json:"values"`
	} `json:"arrayValue"`
	KvlistValue *struct {
		Values []keyValue `json:"values"`
	} `json:"kvlistValue"`
}

func parseTrace(body []byte) ([]Span, error) {
	var d otlpJSON
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("decode trace: %w: %.500s", err, body)
	}
	var out []Span
	for _, rs := range d.Result.ResourceSpans {
		res := attrMap(rs.Resource.Attributes)
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				start, end := jsonInt(sp.StartTimeUnixNano), jsonInt(sp.EndTimeUnixNano)
				out = append(out, Span{
					TraceID:      strings.ToLower(sp.TraceID),
					SpanID:       strings.ToLower(sp.SpanID),
					ParentSpanID: strings.ToLower(sp.ParentSpanID),
					Name:         sp.Name,
					Kind:         int(jsonInt(sp.Kind)),
					Start:        time.Unix(0, start),
					End:          time.Unix(0, end),
					StatusCode:   int(jsonInt(sp.Status.Code)),
					StatusMsg:    sp.Status.Message,
					Attributes:   attrMap(sp.Attributes),
					Resource:     res,
				})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Start.Before(out[b].Start) })
	return out, nil
}

func attrMap(kvs []keyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.value()
	}
	return m
}

func (v anyValue) value() any {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.BoolValue != nil:
		return *v.BoolValue
	case len(v.IntValue) > 0:
		return jsonInt(v.IntValue)
	case v.DoubleValue != nil:
		return *v.DoubleValue
	case v.BytesValue != nil:
		b, _ := base64.StdEncoding.DecodeString(*v.BytesValue)
		return b
	case v.ArrayValue != nil:
		out := make([]any, len(v.ArrayValue.Values))
		for i, e := range v.ArrayValue.Values {
			out[i] = e.value()
		}
		return out
	case v.KvlistValue != nil:
		return attrMap(v.KvlistValue.Values)
	}
	return nil
}

// jsonInt reads an integer that OTLP/JSON writes either as a number or as a string.
func jsonInt(raw json.RawMessage) int64 {
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "null" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		u, _ := strconv.ParseUint(s, 10, 64)
		n = int64(u)
	}
	return n
}
