package jaegertest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// A hand-rolled OTLP client for the tests, so that this package needs no OpenTelemetry (or
// even protobuf and gRPC) modules: the protobuf encoding is written with encoding/binary, and
// the gRPC call is one HTTP/2 (h2c) POST made by net/http.

// testSpan is one span to export.
type testSpan struct {
	service        string
	traceID        string // 32 hex digits
	spanID, parent string // 16 hex digits; parent may be empty
	name           string
	kind           int
	start, end     time.Time
	attrs          []attr
}

type attr struct {
	key string
	val any // string, bool, int64, float64
}

// Protobuf field numbers (opentelemetry/proto/{collector/trace,trace,common,resource}/v1).
func (s testSpan) marshal() []byte {
	var span []byte
	span = pbBytes(span, 1, mustHex(s.traceID))
	span = pbBytes(span, 2, mustHex(s.spanID))
	if s.parent != "" {
		span = pbBytes(span, 4, mustHex(s.parent))
	}
	span = pbBytes(span, 5, []byte(s.name))
	span = pbVarint(span, 6, uint64(s.kind))
	span = pbFixed64(span, 7, uint64(s.start.UnixNano()))
	span = pbFixed64(span, 8, uint64(s.end.UnixNano()))
	for _, a := range s.attrs {
		span = pbBytes(span, 9, kvBytes(a))
	}
	resource := pbBytes(nil, 1, kvBytes(attr{"service.name", s.service}))
	scope := pbBytes(nil, 1, []byte("edgetel/jaegertest"))
	scopeSpans := pbBytes(pbBytes(nil, 1, scope), 2, span)
	resourceSpans := pbBytes(pbBytes(nil, 1, resource), 2, scopeSpans)
	return pbBytes(nil, 1, resourceSpans) // ExportTraceServiceRequest.resource_spans
}

func kvBytes(a attr) []byte {
	var v []byte
	switch x := a.val.(type) {
	case string:
		v = pbBytes(v, 1, []byte(x))
	case bool:
		b := uint64(0)
		if x {
			b = 1
		}
		v = pbVarint(v, 2, b)
	case int64:
		v = pbVarint(v, 3, uint64(x))
	case float64:
		v = pbFixed64(v, 4, math.Float64bits(x))
	default:
		panic(fmt.Sprintf("attr %s: unsupported %T", a.key, a.val))
	}
	return pbBytes(pbBytes(nil, 1, []byte(a.key)), 2, v)
}

func pbTag(b []byte, field, wire int) []byte { return binary.AppendUvarint(b, uint64(field<<3|wire)) }
func pbVarint(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(pbTag(b, field, 0), v)
}
func pbFixed64(b []byte, field int, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(pbTag(b, field, 1), v)
}
func pbBytes(b []byte, field int, v []byte) []byte {
	return append(binary.AppendUvarint(pbTag(b, field, 2), uint64(len(v))), v...)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// exportGRPC calls opentelemetry.proto.collector.trace.v1.TraceService/Export on addr.
func exportGRPC(addr string, spans ...testSpan) error {
	var msg []byte
	for _, s := range spans {
		msg = append(msg, s.marshal()...) // repeated field: concatenation merges
	}
	frame := append([]byte{0}, binary.BigEndian.AppendUint32(nil, uint32(len(msg)))...)
	frame = append(frame, msg...)
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Protocols: protocols}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodPost,
		"http://"+addr+"/opentelemetry.proto.collector.trace.v1.TraceService/Export", bytes.NewReader(frame))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil { // trailers arrive after the body
		return err
	}
	status, message := resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message")
	if status == "" { // a "trailers-only" error response puts them in the headers
		status, message = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	if resp.StatusCode != http.StatusOK || status != "0" {
		return fmt.Errorf("otlp grpc export: http %s, grpc-status %q %q", resp.Status, status, message)
	}
	return nil
}

// exportHTTPJSON posts the span as OTLP/JSON to the receiver's /v1/traces.
func exportHTTPJSON(baseURL string, s testSpan) error {
	var attrs []string
	for _, a := range s.attrs {
		var v string
		switch x := a.val.(type) {
		case string:
			v = fmt.Sprintf(`{"stringValue":%q}`, x)
		case bool:
			v = fmt.Sprintf(`{"boolValue":%t}`, x)
		case int64:
			v = fmt.Sprintf(`{"intValue":"%d"}`, x)
		case float64:
			v = fmt.Sprintf(`{"doubleValue":%g}`, x)
		}
		attrs = append(attrs, fmt.Sprintf(`{"key":%q,"value":%s}`, a.key, v))
	}
	body := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%q}}]},
"scopeSpans":[{"scope":{"name":"edgetel/jaegertest"},"spans":[{"traceId":%q,"spanId":%q,"parentSpanId":%q,"name":%q,
"kind":%d,"startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[%s]}]}]}]}`,
		s.service, s.traceID, s.spanID, s.parent, s.name, s.kind, s.start.UnixNano(), s.end.UnixNano(),
		strings.Join(attrs, ","))
	resp, err := http.Post(baseURL+"/v1/traces", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("otlp http export: %s: %s", resp.Status, msg)
	}
	return nil
}
