package als

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// The fast path's pieces: the wire tags its loops switch on, the field sets they read,
// and the reading of one field's head (see fast.go for the loops and why they are so).

// Wire tags (field number << 3 | wire type) that the fast loops read.
const (
	wireVarint = uint32(protowire.VarintType)
	wireBytes  = uint32(protowire.BytesType)

	tagEntryCommon   = uint32(entryCommon)<<3 | wireBytes
	tagEntryRequest  = uint32(entryRequest)<<3 | wireBytes
	tagEntryResponse = uint32(entryResponse)<<3 | wireBytes

	tagCommonStartTime             = uint32(commonStartTime)<<3 | wireBytes
	tagCommonLastUpstreamRxByte    = uint32(commonLastUpstreamRxByte)<<3 | wireBytes
	tagCommonLastDownstreamTxByte  = uint32(commonLastDownstreamTxByte)<<3 | wireBytes
	tagCommonUpstreamRemoteAddress = uint32(commonUpstreamRemoteAddress)<<3 | wireBytes
	tagCommonUpstreamCluster       = uint32(commonUpstreamCluster)<<3 | wireBytes
	tagCommonResponseFlags         = uint32(commonResponseFlags)<<3 | wireBytes
	tagCommonRouteName             = uint32(commonRouteName)<<3 | wireBytes

	tagRequestMethod       = uint32(requestMethod)<<3 | wireVarint
	tagRequestAuthority    = uint32(requestAuthority)<<3 | wireBytes
	tagRequestPath         = uint32(requestPath)<<3 | wireBytes
	tagRequestUserAgent    = uint32(requestUserAgent)<<3 | wireBytes
	tagRequestID           = uint32(requestID)<<3 | wireBytes
	tagRequestHeadersBytes = uint32(requestHeadersBytes)<<3 | wireVarint
	tagRequestBodyBytes    = uint32(requestBodyBytes)<<3 | wireVarint
	tagRequestHeaders      = uint32(requestHeaders)<<3 | wireBytes

	tagResponseCode         = uint32(responseCode)<<3 | wireBytes
	tagResponseHeadersBytes = uint32(responseHeadersBytes)<<3 | wireVarint
	tagResponseBodyBytes    = uint32(responseBodyBytes)<<3 | wireVarint

	tagMapKey       = uint32(mapKey)<<3 | wireBytes
	tagMapValue     = uint32(mapValue)<<3 | wireBytes
	tagWrapperValue = uint32(wrapperValue)<<3 | wireVarint
	tagTimeSeconds  = uint32(timeSeconds)<<3 | wireVarint
	tagTimeNanos    = uint32(timeNanos)<<3 | wireVarint

	tagAddressSocket   = uint32(addressSocket)<<3 | wireBytes
	tagSocketAddress   = uint32(socketAddress)<<3 | wireBytes
	tagSocketPortValue = uint32(socketPortValue)<<3 | wireVarint
	tagSocketNamedPort = uint32(socketNamedPort)<<3 | wireBytes
)

// The field numbers each message reads, as bit sets: a field in the set that comes with
// another wire type than the one the decoder reads goes to the generic path (which
// rejects it); any other field is skipped, whatever its wire type, as the generic path
// does.
const (
	readEntry    = 1<<entryCommon | 1<<entryRequest | 1<<entryResponse
	readCommon   = 1<<commonStartTime | 1<<commonLastUpstreamRxByte | 1<<commonLastDownstreamTxByte | 1<<commonUpstreamRemoteAddress | 1<<commonUpstreamCluster | 1<<commonResponseFlags | 1<<commonRouteName
	readRequest  = 1<<requestMethod | 1<<requestAuthority | 1<<requestPath | 1<<requestUserAgent | 1<<requestID | 1<<requestHeadersBytes | 1<<requestBodyBytes | 1<<requestHeaders
	readResponse = 1<<responseCode | 1<<responseHeadersBytes | 1<<responseBodyBytes
	readHeader   = 1<<mapKey | 1<<mapValue
	readTime     = 1<<timeSeconds | 1<<timeNanos
	readSocket   = 1<<socketAddress | 1<<socketPortValue | 1<<socketNamedPort
	readStatus   = 1 << wrapperValue
	readAddress  = 1<<addressSocket | 1<<addressPipe | 1<<addressInternal
)

// head reads the tag and the varint after it at the start of buf. n is 0 when the field
// is not of the fast path's shape: a tag longer than two bytes, a wire type other than
// varint or length-delimited, a malformed varint, or a length that runs past buf. For a length-delimited field, v is the length and the value follows n.
func head(buf []byte) (tag uint32, v uint64, n int) {
	// Inline: a tag of one or two bytes and a varint of one or two, not both of two: every
	// field of an access log but its times.
	if len(buf) >= 3 {
		b0, b1, b2 := uint32(buf[0]), uint64(buf[1]), uint64(buf[2])
		switch {
		case b0 < 0x80 && b1 < 0x80:
			tag, v, n = b0, b1, 2
		case b0 < 0x80 && b2 < 0x80:
			tag, v, n = b0, b1&0x7f|b2<<7, 3
		case b1 < 0x80 && b2 < 0x80:
			tag, v, n = b0&0x7f|uint32(b1)<<7, b2, 3
		default:
			return headSlow(buf)
		}
		if t := tag & 7; t == wireVarint || t == wireBytes && v <= uint64(len(buf)-n) {
			return tag, v, n
		}
	}
	return headSlow(buf)
}

func headSlow(buf []byte) (tag uint32, v uint64, n int) {
	if len(buf) < 2 {
		return 0, 0, 0
	}
	tag, n = uint32(buf[0]), 1
	if tag >= 0x80 {
		if buf[1] >= 0x80 {
			return 0, 0, 0
		}
		tag, n = tag&0x7f|uint32(buf[1])<<7, 2
	}
	// Up to five bytes (32 bits: every length, time and byte count of an access log) without
	// protowire's general loop.
	b := buf[n:]
	switch {
	case len(b) > 0 && b[0] < 0x80:
		v, n = uint64(b[0]), n+1
	case len(b) > 1 && b[1] < 0x80:
		v, n = uint64(b[0]&0x7f)|uint64(b[1])<<7, n+2
	case len(b) > 2 && b[2] < 0x80:
		v, n = uint64(b[0]&0x7f)|uint64(b[1]&0x7f)<<7|uint64(b[2])<<14, n+3
	case len(b) > 3 && b[3] < 0x80:
		v, n = uint64(b[0]&0x7f)|uint64(b[1]&0x7f)<<7|uint64(b[2]&0x7f)<<14|uint64(b[3])<<21, n+4
	case len(b) > 4 && b[4] < 0x80:
		v, n = uint64(b[0]&0x7f)|uint64(b[1]&0x7f)<<7|uint64(b[2]&0x7f)<<14|uint64(b[3]&0x7f)<<21|uint64(b[4])<<28, n+5
	default:
		m := 0
		if v, m = protowire.ConsumeVarint(b); m < 0 {
			return 0, 0, 0
		}
		n += m
	}
	switch {
	case tag&7 == wireBytes && v <= uint64(len(buf)-n):
		return tag, v, n
	case tag&7 == wireVarint:
		return tag, v, n
	}
	return 0, 0, 0
}

// unread returns buf after the field head found when the message does not read it; ok
// is false for a field that goes to the generic path (see other).
func unread(buf []byte, set uint64, tag uint32, v uint64, n int) (rest []byte, ok bool) {
	if n == 0 || tag < 8 || reads(set, tag) { // field number 0 is malformed
		return nil, false
	}
	if tag&7 == wireBytes {
		n += int(v)
	}
	return buf[n:], true
}

// reads reports whether a message whose read set is set reads field tag>>3.
func reads(set uint64, tag uint32) bool { return tag>>3 < 64 && set>>(tag>>3)&1 == 1 }

// slowField decodes the one field at the start of buf on the generic path, for a field
// the fast one does not take: one head could not read, or one the message reads that came
// with another wire type. Its errors carry the field's path already.
func (e *entryDecoder) slowField(buf []byte, kind msgKind) ([]byte, error) {
	r := reader{buf}
	num, typ, err := r.tag()
	if err == nil {
		err = e.field(&r, kind, num, typ)
	}
	if err != nil {
		return nil, fieldError(kindNames[kind], num, err)
	}
	return r.b, nil
}

// value returns the value of the length-delimited field head found, capped, and the rest.
func value(buf []byte, v uint64, n int) (val, rest []byte) {
	end := n + int(v)
	return buf[n:end:end], buf[end:]
}

// setText sets dst to v, cut to the value limit.
func (e *entryDecoder) setText(v []byte, dst *[]byte) {
	if len(v) > e.maxValue {
		v = v[:e.maxValue]
		e.batch.Truncated++
	}
	*dst = v
}

// wrap names the field a fast case failed in, as the generic path does.
func wrap(kind msgKind, tag uint32, err error) error {
	return fieldError(kindNames[kind], protowire.Number(tag>>3), err)
}
