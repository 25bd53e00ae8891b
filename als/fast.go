package als

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// The fast path of the entry decoder.
//
// Nearly every field of an access-log entry has the same shape: a tag of one or two bytes
// (field numbers up to 2047), then a varint that is either the value of a varint field or
// the length of a length-delimited one. The messages the sink reads most (the entry,
// AccessLogCommon, the request and response properties, request headers, times and the
// upstream address) are decoded by loops that read that shape with local slices and
// switch on the whole tag, field number and wire type together, so that a field costs one
// call and one jump. Any other shape, and a field the decoder reads that comes with a wire
// type other than its own, goes to the generic path (entryDecoder.field), one field at a
// time; that path is the reference and the fast one does nothing else: FuzzDecode holds
// both to proto.Unmarshal.
//
// The loops repeat one shape on purpose: head, a switch of the message's fields, and a
// default that skips unread fields inline and hands the rest to the generic path. Folded
// into one helper, the skip is a call again (the helper is over the inlining budget) and
// the decoder is a fifth slower.

// entryFast decodes an HTTPAccessLogEntry on the fast path.
func (e *entryDecoder) entryFast(buf []byte) error {
	for len(buf) > 0 {
		tag, v, n := head(buf)
		var val []byte
		var err error
		switch tag {
		case tagEntryCommon:
			val, buf = value(buf, v, n)
			err = e.commonFast(val)
		case tagEntryRequest:
			val, buf = value(buf, v, n)
			err = e.requestFast(val)
		case tagEntryResponse:
			val, buf = value(buf, v, n)
			err = e.responseFast(val)
		default:
			if rest, ok := unread(buf, readEntry, tag, v, n); ok {
				buf = rest
				continue
			}
			buf, err = e.slowField(buf, kindEntry)
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return wrap(kindEntry, tag, err)
		}
	}
	return nil
}

func (e *entryDecoder) commonFast(buf []byte) error {
	for len(buf) > 0 {
		tag, v, n := head(buf)
		var val []byte
		var err error
		switch tag {
		case tagCommonStartTime:
			val, buf = value(buf, v, n)
			e.start.set = true
			err = e.start.decode(val, e, kindStart)
		case tagCommonLastUpstreamRxByte:
			val, buf = value(buf, v, n)
			e.upstreamRx.set = true
			err = e.upstreamRx.decode(val, e, kindUpstreamRx)
		case tagCommonLastDownstreamTxByte:
			val, buf = value(buf, v, n)
			e.downstreamTx.set = true
			err = e.downstreamTx.decode(val, e, kindDownstreamTx)
		case tagCommonUpstreamRemoteAddress:
			val, buf = value(buf, v, n)
			err = e.addressFast(val)
		case tagCommonUpstreamCluster:
			val, buf = value(buf, v, n)
			e.setText(val, &e.rec.UpstreamCluster)
		case tagCommonRouteName:
			val, buf = value(buf, v, n)
			e.setText(val, &e.rec.RouteName)
		case tagCommonResponseFlags:
			val, buf = value(buf, v, n)
			err = e.walk(val, kindFlags)
		default:
			if rest, ok := unread(buf, readCommon, tag, v, n); ok {
				buf = rest
				continue
			}
			buf, err = e.slowField(buf, kindCommon)
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return wrap(kindCommon, tag, err)
		}
	}
	return nil
}

func (e *entryDecoder) requestFast(buf []byte) error {
	for len(buf) > 0 {
		tag, v, n := head(buf)
		var val []byte
		var err error
		switch tag {
		case tagRequestMethod:
			buf = buf[n:]
			e.rec.Method = nil
			if m := int32(v); m >= 0 && int(m) < len(methodNames) {
				e.rec.Method = methodNames[m]
			}
		case tagRequestAuthority:
			val, buf = value(buf, v, n)
			e.setText(val, &e.rec.Authority)
		case tagRequestPath:
			val, buf = value(buf, v, n)
			e.setText(val, &e.rec.Path)
		case tagRequestUserAgent:
			val, buf = value(buf, v, n)
			e.setText(val, &e.rec.UserAgent)
		case tagRequestID:
			val, buf = value(buf, v, n)
			e.setText(val, &e.rec.RequestID)
		case tagRequestHeadersBytes:
			buf = buf[n:]
			e.requestBytes[0] = v
		case tagRequestBodyBytes:
			buf = buf[n:]
			e.requestBytes[1] = v
		case tagRequestHeaders:
			val, buf = value(buf, v, n)
			err = e.headerFast(val)
		default:
			if rest, ok := unread(buf, readRequest, tag, v, n); ok {
				buf = rest
				continue
			}
			buf, err = e.slowField(buf, kindRequest)
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return wrap(kindRequest, tag, err)
		}
	}
	return nil
}

func (e *entryDecoder) responseFast(buf []byte) error {
	for len(buf) > 0 {
		tag, v, n := head(buf)
		var val []byte
		var err error
		switch tag {
		case tagResponseCode:
			val, buf = value(buf, v, n)
			err = e.statusFast(val)
		case tagResponseHeadersBytes:
			buf = buf[n:]
			e.responseBytes[0] = v
		case tagResponseBodyBytes:
			buf = buf[n:]
			e.responseBytes[1] = v
		default:
			if rest, ok := unread(buf, readResponse, tag, v, n); ok {
				buf = rest
				continue
			}
			buf, err = e.slowField(buf, kindResponse)
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return wrap(kindResponse, tag, err)
		}
	}
	return nil
}

func (e *entryDecoder) statusFast(buf []byte) error {
	for len(buf) > 0 {
		tag, v, n := head(buf)
		if tag == tagWrapperValue {
			buf = buf[n:]
			e.rec.Status = uint32(v)
			continue
		}
		var err error
		if rest, ok := unread(buf, readStatus, tag, v, n); ok {
			buf = rest
			continue
		}
		if buf, err = e.slowField(buf, kindStatus); err != nil {
			return err
		}
	}
	return nil
}

// headerFast reads one request_headers map entry and keeps the traceparent value.
func (e *entryDecoder) headerFast(buf []byte) error {
	e.headerKey, e.headerValue = nil, nil
	for len(buf) > 0 {
		tag, v, n := head(buf)
		switch tag {
		case tagMapKey:
			e.headerKey, buf = value(buf, v, n)
		case tagMapValue:
			e.headerValue, buf = value(buf, v, n)
		default:
			var err error
			if rest, ok := unread(buf, readHeader, tag, v, n); ok {
				buf = rest
				continue
			}
			if buf, err = e.slowField(buf, kindHeader); err != nil {
				return err
			}
		}
	}
	if string(e.headerKey) == traceparentHeader {
		e.traceparent, e.hasTraceparent = e.headerValue, true
	}
	return nil
}

// decode reads a Timestamp or Duration into t, merging as proto.Unmarshal does.
func (t *protoTime) decode(buf []byte, e *entryDecoder, kind msgKind) error {
	for len(buf) > 0 {
		// A time's fields are a one-byte tag and a varint, nanos one of four or five bytes
		// for most durations, which head leaves to its slow path: read them here.
		if tag := uint32(buf[0]); tag == tagTimeSeconds || tag == tagTimeNanos {
			if v, m := protowire.ConsumeVarint(buf[1:]); m > 0 {
				if buf = buf[1+m:]; tag == tagTimeSeconds {
					t.seconds = int64(v)
				} else {
					t.nanos = int32(v)
				}
				continue
			}
		}
		tag, v, n := head(buf)
		switch tag {
		case tagTimeSeconds:
			buf = buf[n:]
			t.seconds = int64(v)
		case tagTimeNanos:
			buf = buf[n:]
			t.nanos = int32(v)
		default:
			if rest, ok := unread(buf, readTime, tag, v, n); ok {
				buf = rest
				continue
			}
			var err error
			if buf, err = e.slowField(buf, kind); err != nil {
				return err
			}
		}
	}
	return nil
}

// addressFast reads the upstream Address. A member of its oneof other than the one set
// replaces it; the same one merges, as in proto.Unmarshal.
func (e *entryDecoder) addressFast(buf []byte) error {
	for len(buf) > 0 {
		tag, v, n := head(buf)
		if tag != tagAddressSocket {
			var err error
			if rest, ok := unread(buf, readAddress, tag, v, n); ok {
				buf = rest
				continue
			}
			if buf, err = e.slowField(buf, kindAddress); err != nil {
				return err
			}
			continue
		}
		var val []byte
		val, buf = value(buf, v, n)
		if e.upstream.kind != addressSocket {
			e.upstream = address{kind: addressSocket}
		}
		if err := e.socketFast(val); err != nil {
			return wrap(kindAddress, tag, err)
		}
	}
	return nil
}

func (e *entryDecoder) socketFast(buf []byte) error {
	a := &e.upstream
	for len(buf) > 0 {
		tag, v, n := head(buf)
		switch tag {
		case tagSocketAddress:
			a.host, buf = value(buf, v, n)
		case tagSocketPortValue:
			buf = buf[n:]
			a.port, a.hasPort = uint32(v), true
		case tagSocketNamedPort:
			_, buf = value(buf, v, n)
			a.hasPort = false
		default:
			var err error
			if rest, ok := unread(buf, readSocket, tag, v, n); ok {
				buf = rest
				continue
			}
			if buf, err = e.slowField(buf, kindSocket); err != nil {
				return err
			}
		}
	}
	return nil
}
