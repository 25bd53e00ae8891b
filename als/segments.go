package als

import (
	"encoding/binary"

	"google.golang.org/protobuf/encoding/protowire"
)

// DecodeSegments decodes a message that arrives in pieces, as gRPC's receive buffers hold
// one (a buffer per HTTP/2 frame: a 16 KiB access-log batch is two), exactly as Decode
// decodes their concatenation. Entries are decoded where they lie; one that straddles two
// pieces is copied into scratch, and records view that copy as they view the pieces: both
// must stay unmodified while the records are in use.
//
// Only the shape Envoy sends takes that path: an identifier and http_logs of entries. Any
// other message (tcp_logs, unknown fields) and every malformed one is copied whole into
// scratch and decoded by Decode, so that the merge rules and the errors are Decode's own.
func (d *Decoder) DecodeSegments(segs [][]byte, scratch *[]byte, b *Batch) error {
	*scratch = (*scratch)[:0]
	if len(segs) == 1 {
		return d.Decode(segs[0], b)
	}
	if d.decodePieces(segs, scratch, b) {
		return nil
	}
	// What the attempt appended to scratch is no longer viewed: Decode resets b first.
	msg := (*scratch)[:0]
	for _, s := range segs {
		msg = append(msg, s...)
	}
	*scratch = msg
	return d.Decode(msg, b)
}

// decodePieces decodes the shape Envoy sends, reporting false for anything else. It adopts
// the identifier only once the whole message has decoded, as Decode does.
func (d *Decoder) decodePieces(segs [][]byte, scratch *[]byte, b *Batch) bool {
	b.reset()
	var id identifier
	p := newPieces(segs)
	for p.left > 0 {
		num, n, ok := p.lenField(p.left)
		if !ok {
			return false
		}
		switch num {
		case msgIdentifier:
			if id.decode(p.view(n, scratch)) != nil {
				return false
			}
		case msgHTTPLogs:
			if !d.pieceEntries(&p, n, scratch, b) {
				return false
			}
		default:
			return false
		}
	}
	d.finish(&id, b)
	return true
}

// pieceEntries decodes the n bytes of an HTTPAccessLogEntries message at p.
func (d *Decoder) pieceEntries(p *pieces, n int, scratch *[]byte, b *Batch) bool {
	end := p.left - n
	for p.left > end {
		num, m, ok := p.lenField(p.left - end)
		if !ok || num != entriesLogEntry {
			return false
		}
		if len(b.Records) >= d.limits.MaxEntries {
			b.Dropped++
			p.skip(m)
			continue
		}
		if d.decodeHTTPEntry(p.view(m, scratch), b) != nil {
			return false
		}
	}
	return true
}

// pieces reads a message across the pieces it came in.
type pieces struct {
	cur  []byte   // what is left of the current piece
	rest [][]byte // the pieces after it
	left int      // bytes left in all pieces
}

func newPieces(segs [][]byte) pieces {
	p := pieces{rest: segs}
	for _, s := range segs {
		p.left += len(s)
	}
	p.next()
	return p
}

// next moves to the next piece that is not empty, once the current one is spent.
func (p *pieces) next() {
	for len(p.cur) == 0 && len(p.rest) > 0 {
		p.cur, p.rest = p.rest[0], p.rest[1:]
	}
}

// lenField reads the head of a length-delimited field: its number and the length of its
// value, which lies within the next limit bytes. ok is false for any other field, a
// malformed head, or a value that runs past limit.
func (p *pieces) lenField(limit int) (num protowire.Number, n int, ok bool) {
	start := p.left
	tag, ok := p.varint(limit)
	if !ok || protowire.Type(tag&7) != protowire.BytesType || tag>>3 > uint64(protowire.MaxValidNumber) {
		return 0, 0, false
	}
	v, ok := p.varint(limit - (start - p.left))
	if !ok || v > uint64(limit-(start-p.left)) {
		return 0, 0, false
	}
	return protowire.Number(tag >> 3), int(v), true
}

// varint reads a varint that lies within the next limit bytes.
func (p *pieces) varint(limit int) (uint64, bool) {
	b := p.cur
	if len(b) > limit {
		b = b[:limit]
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 && len(b) < limit { // perhaps cut by the piece's end: read across
		var tmp [binary.MaxVarintLen64]byte
		v, n = protowire.ConsumeVarint(tmp[:p.peek(tmp[:min(limit, len(tmp))])])
	}
	if n < 0 {
		return 0, false
	}
	p.skip(n)
	return v, true
}

// peek copies the next bytes into dst without moving, and returns how many it copied.
func (p *pieces) peek(dst []byte) int {
	k := copy(dst, p.cur)
	for _, s := range p.rest {
		if k == len(dst) {
			break
		}
		k += copy(dst[k:], s)
	}
	return k
}

// skip moves n bytes on; n is at most p.left.
func (p *pieces) skip(n int) {
	p.left -= n
	for n > len(p.cur) && len(p.rest) > 0 {
		n -= len(p.cur)
		p.cur = nil
		p.next()
	}
	p.cur = p.cur[n:]
	p.next()
}

// view returns the next n bytes, n at most p.left, and moves past them: a part of the
// current piece when they lie in it, else a copy appended to scratch. If the append
// moves scratch, earlier views keep the old memory alive and valid.
func (p *pieces) view(n int, scratch *[]byte) []byte {
	if n <= len(p.cur) {
		v := p.cur[:n:n]
		p.skip(n)
		return v
	}
	start := len(*scratch)
	buf := append(*scratch, make([]byte, n)...)
	p.peek(buf[start:])
	p.skip(n)
	*scratch = buf
	return buf[start : start+n : start+n]
}
