package als

import (
	"bytes"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of envoy.service.accesslog.v3.StreamAccessLogsMessage and its parts.
const (
	msgIdentifier protowire.Number = 1
	msgHTTPLogs   protowire.Number = 2
	msgTCPLogs    protowire.Number = 3

	identifierNode    protowire.Number = 1
	identifierLogName protowire.Number = 2
	nodeID            protowire.Number = 1
	nodeCluster       protowire.Number = 2

	entriesLogEntry protowire.Number = 1 // in both HTTPAccessLogEntries and TCPAccessLogEntries
)

// Limits bound what one message can cost the sink, whatever the sender puts in it.
type Limits struct {
	// MaxEntries is the most HTTP entries decoded from one message. Entries past it are
	// skipped and counted in Batch.Dropped. It bounds a batch's memory: a Record is about
	// 370 bytes, and an empty entry is 2 bytes on the wire, so a 4 MiB message could
	// otherwise ask for 770 MB of records.
	MaxEntries int
	// MaxValueBytes is the longest value a Record's byte fields keep; a longer one is cut
	// to it and counted in Batch.Truncated. Cutting a view costs nothing here, and it keeps
	// a huge header from being copied by every consumer downstream.
	MaxValueBytes int
}

// Defaults for Limits. Envoy flushes access logs at 16 KiB by default (buffer_size_bytes),
// about 30 entries; 4096 leaves room for large flush buffers.
const (
	DefaultMaxEntries    = 4096
	DefaultMaxValueBytes = 4096
)

// DefaultLimits returns the limits used where none are configured.
func DefaultLimits() Limits {
	return Limits{MaxEntries: DefaultMaxEntries, MaxValueBytes: DefaultMaxValueBytes}
}

// Batch holds one decoded StreamAccessLogsMessage. It is meant to be reused for message
// after message: Decode resets it, and in steady state appends to memory it already has.
//
// Records' byte fields are views of the message that was decoded; they are valid until the
// batch is decoded into again.
type Batch struct {
	// Records has one record per HTTP entry that was decoded, in message order.
	Records []Record
	// TCPEntries counts tcp_logs entries. They are counted, not decoded: they carry no
	// HTTP status, and no SLI is defined over them.
	TCPEntries int
	// Dropped counts HTTP entries past Limits.MaxEntries, which were not decoded.
	Dropped int
	// Truncated counts values cut to Limits.MaxValueBytes.
	Truncated int
}

func (b *Batch) reset() {
	// No clear: a record is zeroed as it is appended, and what lies past the length holds
	// views of pooled buffers only, which keeps none of them from the pool.
	b.Records = b.Records[:0]
	b.TCPEntries, b.Dropped, b.Truncated = 0, 0, 0
}

// Decoder decodes the messages of one access-log stream, straight from the wire into
// Records, without building the protobuf message first.
//
// Envoy sends the stream's identifier (node and log name) only in its first message, so a
// Decoder keeps it and stamps every later record with it: use one Decoder per stream. A
// Decoder is not safe for concurrent use.
//
// The fields it reads decode as proto.Unmarshal would decode them, including the merge
// rules for a field or sub-message sent twice; FuzzDecode holds it to that. It differs only
// on input Envoy does not send: a field the decoder reads must have its declared wire type
// (proto.Unmarshal would keep it as an unknown field); strings are not checked for valid
// UTF-8; sub-messages it does not read are skipped unparsed; and groups in unknown fields
// may nest 16 deep, not 10,000. Beyond that, Limits cut what a message may cost.
type Decoder struct {
	limits Limits
	// node, cluster and logName are owned: they outlive the message they came in.
	node, cluster, logName []byte
	// routes resolves records' routes; nil leaves them unresolved.
	routes *RouteIndex
}

// NewDecoder returns a decoder for a new stream. Zero fields of limits take their defaults.
func NewDecoder(limits Limits) *Decoder {
	if limits.MaxEntries <= 0 {
		limits.MaxEntries = DefaultMaxEntries
	}
	if limits.MaxValueBytes <= 0 {
		limits.MaxValueBytes = DefaultMaxValueBytes
	}
	return &Decoder{limits: limits}
}

// SetRoutes makes the decoder resolve each record's route in x's model (see
// Record.RouteIn), as the receivers' decoders do; nil stops it.
func (d *Decoder) SetRoutes(x *RouteIndex) { d.routes = x }

// Identity returns the node ID, node cluster and log name of the stream's identifier, nil
// until a message has carried one. The slices are owned by the decoder and never modified.
func (d *Decoder) Identity() (node, cluster, logName []byte) { return d.node, d.cluster, d.logName }

// Decode decodes one serialized envoy.service.accesslog.v3.StreamAccessLogsMessage into b,
// replacing what b held. Records' byte fields are views of msg: msg must stay unmodified
// while they are in use.
//
// A message that is not valid protobuf returns an error wrapping ErrMalformed and leaves b
// empty and the stream's identity unchanged: no part of a malformed message is kept.
func (d *Decoder) Decode(msg []byte, b *Batch) error {
	b.reset()
	var id identifier
	var member protowire.Number // the log_entries oneof member seen last
	r := reader{msg}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			err = d.decodeField(&r, num, typ, &id, &member, b)
		}
		if err != nil {
			b.reset()
			return fmt.Errorf("%w: %w", ErrMalformed, fieldError("StreamAccessLogsMessage", num, err))
		}
	}
	d.finish(&id, b)
	return nil
}

// finish ends the decoding of a valid message: its identifier, if it had one, becomes the
// stream's, and every record is stamped with the stream's identity.
func (d *Decoder) finish(id *identifier, b *Batch) {
	if id.seen {
		d.adopt(id, b)
	}
	for i := range b.Records {
		rec := &b.Records[i]
		rec.Node, rec.NodeCluster, rec.LogName = d.node, d.cluster, d.logName
		if d.routes != nil {
			d.routes.Resolve(rec)
		}
	}
}

func (d *Decoder) decodeField(r *reader, num protowire.Number, typ protowire.Type,
	id *identifier, member *protowire.Number, b *Batch) error {
	switch num {
	case msgIdentifier:
		v, err := r.bytes(typ)
		if err != nil {
			return err
		}
		return id.decode(v)
	case msgHTTPLogs, msgTCPLogs:
		v, err := r.bytes(typ)
		if err != nil {
			return err
		}
		if *member != num {
			// http_logs and tcp_logs are a oneof: as in proto.Unmarshal, the member that
			// comes last replaces the other. Envoy never sends both.
			*member = num
			b.reset()
		}
		if num == msgTCPLogs {
			return countTCPEntries(v, b)
		}
		return d.decodeHTTPEntries(v, b)
	}
	return r.skip(num, typ)
}

// decodeHTTPEntries decodes an HTTPAccessLogEntries message, appending to b.Records.
func (d *Decoder) decodeHTTPEntries(buf []byte, b *Batch) error {
	r := reader{buf}
	for i := 0; r.more(); {
		num, typ, err := r.tag()
		if err == nil {
			if num == entriesLogEntry {
				if err = d.decodeHTTPEntryField(&r, typ, b); err == nil {
					i++
				}
			} else {
				err = r.skip(num, typ)
			}
		}
		if err != nil {
			return fieldError("HTTPAccessLogEntries", num, fmt.Errorf("entry %d: %w", i, err))
		}
	}
	return nil
}

func (d *Decoder) decodeHTTPEntryField(r *reader, typ protowire.Type, b *Batch) error {
	v, err := r.bytes(typ)
	if err != nil {
		return err
	}
	if len(b.Records) >= d.limits.MaxEntries {
		b.Dropped++
		return nil
	}
	return d.decodeHTTPEntry(v, b)
}

// decodeHTTPEntry decodes the HTTPAccessLogEntry v into a new record of b.
func (d *Decoder) decodeHTTPEntry(v []byte, b *Batch) error {
	b.Records = append(b.Records, Record{})
	e := entryDecoder{rec: &b.Records[len(b.Records)-1], batch: b, maxValue: d.limits.MaxValueBytes}
	return e.decode(v)
}

// countTCPEntries counts the entries of a TCPAccessLogEntries message.
func countTCPEntries(buf []byte, b *Batch) error {
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			if num == entriesLogEntry {
				_, err = r.bytes(typ)
				b.TCPEntries++
			} else {
				err = r.skip(num, typ)
			}
		}
		if err != nil {
			return fieldError("TCPAccessLogEntries", num, err)
		}
	}
	return nil
}

// identifier is StreamAccessLogsMessage.Identifier as far as the sink reads it. Fields are
// views of the message until the decoder adopts them.
type identifier struct {
	node, cluster, logName []byte
	seen                   bool
}

func (id *identifier) decode(buf []byte) error {
	id.seen = true
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			switch num {
			case identifierNode:
				var v []byte
				if v, err = r.bytes(typ); err == nil {
					err = id.decodeNode(v)
				}
			case identifierLogName:
				id.logName, err = r.bytes(typ)
			default:
				err = r.skip(num, typ)
			}
		}
		if err != nil {
			return fieldError("Identifier", num, err)
		}
	}
	return nil
}

func (id *identifier) decodeNode(buf []byte) error {
	r := reader{buf}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			switch num {
			case nodeID:
				id.node, err = r.bytes(typ)
			case nodeCluster:
				id.cluster, err = r.bytes(typ)
			default:
				err = r.skip(num, typ)
			}
		}
		if err != nil {
			return fieldError("Node", num, err)
		}
	}
	return nil
}

// adopt makes id the stream's identity. The decoder copies it, since the message it came
// in is reused; it copies into new memory rather than over the old, because records still
// queued for the consumer refer to the old identity. Envoy sends the identifier once per
// stream, so this allocates once per stream, and never for a repeated, unchanged one.
func (d *Decoder) adopt(id *identifier, b *Batch) {
	node, cluster, logName := d.clip(id.node, b), d.clip(id.cluster, b), d.clip(id.logName, b)
	if bytes.Equal(node, d.node) && bytes.Equal(cluster, d.cluster) && bytes.Equal(logName, d.logName) {
		return
	}
	owned := make([]byte, 0, len(node)+len(cluster)+len(logName))
	owned = append(owned, node...)
	owned = append(owned, cluster...)
	owned = append(owned, logName...)
	n, c := len(node), len(node)+len(cluster)
	d.node, d.cluster, d.logName = owned[:n:n], owned[n:c:c], owned[c:]
}

func (d *Decoder) clip(v []byte, b *Batch) []byte {
	if len(v) > d.limits.MaxValueBytes {
		b.Truncated++
		return v[:d.limits.MaxValueBytes]
	}
	return v
}
