package als

import (
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers in envoy.data.accesslog.v3 and the messages it uses; only the fields the
// sink reads.
const (
	entryCommon   protowire.Number = 1 // HTTPAccessLogEntry
	entryRequest  protowire.Number = 3
	entryResponse protowire.Number = 4

	commonStartTime             protowire.Number = 5 // AccessLogCommon
	commonLastUpstreamRxByte    protowire.Number = 10
	commonLastDownstreamTxByte  protowire.Number = 12
	commonUpstreamRemoteAddress protowire.Number = 13
	commonUpstreamCluster       protowire.Number = 15
	commonResponseFlags         protowire.Number = 16
	commonRouteName             protowire.Number = 19

	requestMethod       protowire.Number = 1 // HTTPRequestProperties
	requestAuthority    protowire.Number = 3
	requestPath         protowire.Number = 5
	requestUserAgent    protowire.Number = 6
	requestID           protowire.Number = 9
	requestHeadersBytes protowire.Number = 11
	requestBodyBytes    protowire.Number = 12
	requestHeaders      protowire.Number = 13

	responseCode         protowire.Number = 1 // HTTPResponseProperties
	responseHeadersBytes protowire.Number = 2
	responseBodyBytes    protowire.Number = 3

	flagsUnauthorizedDetails protowire.Number = 13 // ResponseFlags; every other field is a bool

	mapKey       protowire.Number = 1 // map entries
	mapValue     protowire.Number = 2
	wrapperValue protowire.Number = 1 // google.protobuf.UInt32Value
	timeSeconds  protowire.Number = 1 // google.protobuf.Timestamp and Duration
	timeNanos    protowire.Number = 2
)

// traceparentHeader is the request_headers key whose value carries the W3C trace context.
// Envoy logs header names lower-cased, and a proto map lookup is exact, so this is too. A
// constant: the compiler compares a slice with it in two loads, where a variable is a call.
const traceparentHeader = "traceparent"

// methodNames maps envoy.config.core.v3.RequestMethod to the method's name. Each entry is
// capped so that appending to a Record's Method copies rather than writes into the table.
var methodNames = [...][]byte{
	1: []byte("GET")[:3:3], 2: []byte("HEAD")[:4:4], 3: []byte("POST")[:4:4],
	4: []byte("PUT")[:3:3], 5: []byte("DELETE")[:6:6], 6: []byte("CONNECT")[:7:7],
	7: []byte("OPTIONS")[:7:7], 8: []byte("TRACE")[:5:5], 9: []byte("PATCH")[:5:5],
}

// entryDecoder decodes one HTTPAccessLogEntry into a Record. Fields that need more than
// one wire field to make a Record field (times, the upstream address, byte counts, the
// trace context) are collected first and set at the end, so that a sub-message sent twice
// merges as proto.Unmarshal would merge it.
type entryDecoder struct {
	rec      *Record
	batch    *Batch
	maxValue int

	start, upstreamRx, downstreamTx protoTime
	upstream                        address
	requestBytes, responseBytes     [2]uint64 // headers, body
	traceparent                     []byte
	hasTraceparent                  bool
	headerKey, headerValue          []byte // the request_headers entry being read
}

// msgKind names each message type inside an entry, for the one loop that walks them all.
// Dispatching on it, rather than passing a func per message, keeps calls static, so that
// the reader stays on the stack: decoding allocates nothing.
type msgKind uint8

const (
	kindEntry msgKind = iota
	kindCommon
	kindRequest
	kindResponse
	kindStatus
	kindFlags
	kindHeader
	kindStart
	kindUpstreamRx
	kindDownstreamTx
	kindAddress
	kindSocket
	kindPipe
	kindInternal
)

var kindNames = [...]string{
	kindEntry: "HTTPAccessLogEntry", kindCommon: "AccessLogCommon", kindRequest: "HTTPRequestProperties",
	kindResponse: "HTTPResponseProperties", kindStatus: "UInt32Value", kindFlags: "ResponseFlags",
	kindHeader: "RequestHeadersEntry", kindStart: "Timestamp", kindUpstreamRx: "Duration",
	kindDownstreamTx: "Duration", kindAddress: "Address", kindSocket: "SocketAddress",
	kindPipe: "Pipe", kindInternal: "EnvoyInternalAddress",
}

func (e *entryDecoder) decode(buf []byte) error {
	if err := e.entryFast(buf); err != nil {
		return err
	}
	e.finish()
	return nil
}

// walk decodes every field of the message in buf, a message of the given kind.
func (e *entryDecoder) walk(buf []byte, kind msgKind) error {
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			err = e.field(&r, kind, num, typ)
		}
		if err != nil {
			return fieldError(kindNames[kind], num, err)
		}
	}
	return nil
}

// sub decodes the message in a length-delimited field.
func (e *entryDecoder) sub(r *reader, typ protowire.Type, kind msgKind) error {
	v, err := r.bytes(typ)
	if err != nil {
		return err
	}
	return e.walk(v, kind)
}

func (e *entryDecoder) field(r *reader, kind msgKind, num protowire.Number, typ protowire.Type) error {
	switch kind {
	case kindEntry:
		return e.entryField(r, num, typ)
	case kindCommon:
		return e.commonField(r, num, typ)
	case kindRequest:
		return e.requestField(r, num, typ)
	case kindResponse:
		return e.responseField(r, num, typ)
	case kindStatus:
		return e.statusField(r, num, typ)
	case kindFlags:
		return e.flagField(r, num, typ)
	case kindHeader:
		return e.headerField(r, num, typ)
	case kindStart:
		return e.start.field(r, num, typ)
	case kindUpstreamRx:
		return e.upstreamRx.field(r, num, typ)
	case kindDownstreamTx:
		return e.downstreamTx.field(r, num, typ)
	case kindAddress:
		return e.addressField(r, num, typ)
	case kindSocket:
		return e.upstream.socketField(r, num, typ)
	case kindPipe:
		return e.upstream.pipeField(r, num, typ)
	}
	return r.skip(num, typ) // kindInternal: its presence is all UpstreamHost needs
}

func (e *entryDecoder) entryField(r *reader, num protowire.Number, typ protowire.Type) error {
	switch num {
	case entryCommon:
		return e.sub(r, typ, kindCommon)
	case entryRequest:
		return e.sub(r, typ, kindRequest)
	case entryResponse:
		return e.sub(r, typ, kindResponse)
	}
	return r.skip(num, typ)
}

func (e *entryDecoder) commonField(r *reader, num protowire.Number, typ protowire.Type) error {
	var err error
	switch num {
	case commonStartTime:
		e.start.set = true
		err = e.sub(r, typ, kindStart)
	case commonLastUpstreamRxByte:
		e.upstreamRx.set = true
		err = e.sub(r, typ, kindUpstreamRx)
	case commonLastDownstreamTxByte:
		e.downstreamTx.set = true
		err = e.sub(r, typ, kindDownstreamTx)
	case commonUpstreamRemoteAddress:
		err = e.sub(r, typ, kindAddress)
	case commonUpstreamCluster:
		err = e.text(r, typ, &e.rec.UpstreamCluster)
	case commonResponseFlags:
		err = e.sub(r, typ, kindFlags)
	case commonRouteName:
		err = e.text(r, typ, &e.rec.RouteName)
	default:
		err = r.skip(num, typ)
	}
	return err
}

func (e *entryDecoder) requestField(r *reader, num protowire.Number, typ protowire.Type) error {
	switch num {
	case requestMethod:
		v, err := r.varint(typ)
		if m := int32(v); m >= 0 && int(m) < len(methodNames) {
			e.rec.Method = methodNames[m]
		} else {
			e.rec.Method = nil
		}
		return err
	case requestAuthority:
		return e.text(r, typ, &e.rec.Authority)
	case requestPath:
		return e.text(r, typ, &e.rec.Path)
	case requestUserAgent:
		return e.text(r, typ, &e.rec.UserAgent)
	case requestID:
		return e.text(r, typ, &e.rec.RequestID)
	case requestHeadersBytes, requestBodyBytes:
		// Bytes received are headers plus body, as Envoy's %BYTES_RECEIVED% counts body only
		// and would hide large header blocks. Wire-level counts (with framing and TLS) are in
		// AccessLogCommon.downstream_wire_bytes_*, which not every Envoy fills in.
		v, err := r.varint(typ)
		e.requestBytes[num-requestHeadersBytes] = v
		return err
	case requestHeaders:
		return e.header(r, typ)
	}
	return r.skip(num, typ)
}

func (e *entryDecoder) responseField(r *reader, num protowire.Number, typ protowire.Type) error {
	switch num {
	case responseCode:
		return e.sub(r, typ, kindStatus)
	case responseHeadersBytes, responseBodyBytes:
		v, err := r.varint(typ)
		e.responseBytes[num-responseHeadersBytes] = v
		return err
	}
	return r.skip(num, typ)
}

func (e *entryDecoder) statusField(r *reader, num protowire.Number, typ protowire.Type) error {
	if num != wrapperValue {
		return r.skip(num, typ)
	}
	v, err := r.varint(typ)
	e.rec.Status = uint32(v)
	return err
}

// addressField decodes a field of the upstream Address. A member of its oneof other than
// the one set replaces it; the same one merges, as in proto.Unmarshal.
func (e *entryDecoder) addressField(r *reader, num protowire.Number, typ protowire.Type) error {
	kind := kindInternal
	switch num {
	case addressSocket:
		kind = kindSocket
	case addressPipe:
		kind = kindPipe
	case addressInternal:
	default:
		return r.skip(num, typ)
	}
	if e.upstream.kind != num {
		e.upstream = address{kind: num}
	}
	return e.sub(r, typ, kind)
}

// flagField sets or clears the flag of one ResponseFlags field: bit i is field i+1. A
// false sent after a true clears it, as the last value wins in proto3.
func (e *entryDecoder) flagField(r *reader, num protowire.Number, typ protowire.Type) error {
	if num < 1 || num > flagCount {
		return r.skip(num, typ)
	}
	bit := ResponseFlags(1) << (num - 1)
	if num == flagsUnauthorizedDetails {
		// A message: its presence is the flag, whatever the reason inside says.
		_, err := r.bytes(typ)
		e.rec.Flags |= bit
		return err
	}
	v, err := r.varint(typ)
	if v != 0 {
		e.rec.Flags |= bit
	} else {
		e.rec.Flags &^= bit
	}
	return err
}

// header reads one request_headers map entry and keeps the traceparent value.
func (e *entryDecoder) header(r *reader, typ protowire.Type) error {
	e.headerKey, e.headerValue = nil, nil
	if err := e.sub(r, typ, kindHeader); err != nil {
		return err
	}
	if string(e.headerKey) == traceparentHeader {
		e.traceparent, e.hasTraceparent = e.headerValue, true
	}
	return nil
}

func (e *entryDecoder) headerField(r *reader, num protowire.Number, typ protowire.Type) error {
	var err error
	switch num {
	case mapKey:
		e.headerKey, err = r.bytes(typ)
	case mapValue:
		e.headerValue, err = r.bytes(typ)
	default:
		err = r.skip(num, typ)
	}
	return err
}

// text reads a string field into dst, cut to the value limit.
func (e *entryDecoder) text(r *reader, typ protowire.Type, dst *[]byte) error {
	v, err := r.bytes(typ)
	if len(v) > e.maxValue {
		v = v[:e.maxValue]
		e.batch.Truncated++
	}
	*dst = v
	return err
}

// finish sets the Record fields that are made from several wire fields.
func (e *entryDecoder) finish() {
	rec := e.rec
	if e.start.set {
		rec.Start = time.Unix(e.start.seconds, int64(e.start.nanos)).UTC()
	}
	// time_to_last_downstream_tx_byte is the request's whole duration as the client saw
	// it. When nothing was sent downstream (the client went away first), the time to the
	// upstream's last byte is the best measure left.
	switch {
	case e.downstreamTx.set:
		rec.Duration = e.downstreamTx.duration()
	case e.upstreamRx.set:
		rec.Duration = e.upstreamRx.duration()
	}
	rec.BytesReceived = e.requestBytes[0] + e.requestBytes[1]
	rec.BytesSent = e.responseBytes[0] + e.responseBytes[1]
	rec.UpstreamHost = e.upstream.hostPort()
	if e.hasTraceparent {
		rec.SetTraceparent(e.traceparent)
	}
}
