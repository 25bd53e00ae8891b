package als

import (
	"math"
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

// hostPort returns the address as UpstreamHost: the socket address with its port value
// (the port is dropped for a named port, which has no number to join), the path for a pipe,
// and nothing for an internal address or none. HostPort.Append joins them on demand: few
// consumers print the host, and formatting it for every record was 3% of the sink's CPU.
func (a *address) hostPort() HostPort {
	switch a.kind {
	case addressSocket:
		if a.hasPort {
			return HostPort{Host: a.host, Port: a.port, HasPort: true}
		}
		return HostPort{Host: a.host}
	case addressPipe:
		return HostPort{Host: a.host}
	}
	return HostPort{}
}
