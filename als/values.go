package als

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of envoy.config.core.v3.Address and its members.
const (
	addressSocket   protowire.Number = 1
	addressPipe     protowire.Number = 2
	addressInternal protowire.Number = 3

	socketAddress   protowire.Number = 2
	socketPortValue protowire.Number = 3
	socketNamedPort protowire.Number = 4

	pipePath protowire.Number = 1
)

// protoTime is a google.protobuf.Timestamp or Duration: both are seconds and nanos.
type protoTime struct {
	seconds int64
	nanos   int32
	set     bool // the message was present, even if empty
}

func (t *protoTime) field(r *reader, num protowire.Number, typ protowire.Type) error {
	switch num {
	case timeSeconds:
		v, err := r.varint(typ)
		t.seconds = int64(v)
		return err
	case timeNanos:
		v, err := r.varint(typ)
		t.nanos = int32(v)
		return err
	}
	return r.skip(num, typ)
}

// duration converts as durationpb's AsDuration does, saturating on overflow.
func (t *protoTime) duration() time.Duration {
	d := time.Duration(t.seconds) * time.Second
	overflow := d/time.Second != time.Duration(t.seconds)
	d += time.Duration(t.nanos)
	overflow = overflow || (t.seconds < 0 && t.nanos < 0 && d > 0)
	overflow = overflow || (t.seconds > 0 && t.nanos > 0 && d < 0)
	switch {
	case overflow && t.seconds < 0:
		return math.MinInt64
	case overflow && t.seconds > 0:
		return math.MaxInt64
	}
	return d
}

// address is an envoy.config.core.v3.Address as far as UpstreamHost needs it.
type address struct {
	kind    protowire.Number // which member of the Address oneof was set last; 0 for none
	host    []byte           // socket address, or pipe path
	port    uint32
	hasPort bool // port_value, rather than named_port or nothing, was set last
}

func (a *address) socketField(r *reader, num protowire.Number, typ protowire.Type) error {
	var err error
	switch num {
	case socketAddress:
		a.host, err = r.bytes(typ)
	case socketPortValue:
		var v uint64
		v, err = r.varint(typ)
		a.port, a.hasPort = uint32(v), true
	case socketNamedPort:
		_, err = r.bytes(typ)
		a.hasPort = false
	default:
		err = r.skip(num, typ)
	}
	return err
}

func (a *address) pipeField(r *reader, num protowire.Number, typ protowire.Type) error {
	if num != pipePath {
		return r.skip(num, typ)
	}
	var err error
	a.host, err = r.bytes(typ)
	return err
}

// hostPort renders the address as UpstreamHost: "ip:port" for a socket address with a
// port value ("[ip]:port" for IPv6, as net.JoinHostPort), the address alone for a named
// port, the path for a pipe, and nil for an internal address or none. The joined form is
// written to the batch's scratch memory, so that steady-state decoding does not allocate.
func (a *address) hostPort(b *Batch) []byte {
	switch {
	case a.kind == addressPipe || a.kind == addressSocket && !a.hasPort:
		return a.host
	case a.kind != addressSocket:
		return nil
	}
	start := len(b.hosts)
	if bytes.IndexByte(a.host, ':') >= 0 {
		b.hosts = append(b.hosts, '[')
		b.hosts = append(b.hosts, a.host...)
		b.hosts = append(b.hosts, ']')
	} else {
		b.hosts = append(b.hosts, a.host...)
	}
	b.hosts = append(b.hosts, ':')
	b.hosts = strconv.AppendUint(b.hosts, uint64(a.port), 10)
	// If append moved b.hosts, earlier records keep the old array alive and valid.
	return b.hosts[start:len(b.hosts):len(b.hosts)]
}
