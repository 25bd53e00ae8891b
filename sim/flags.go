package sim

import (
	"strconv"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Flags is a set of Envoy response flags, bit i standing for the field numbered i+1 in
// envoy.data.accesslog.v3.ResponseFlags: the convention of als.ResponseFlags, so that
// als.ResponseFlags(f) is the same set. sim does not import als, so that the sink's own
// tests can import sim.
type Flags uint64

// The flags the simulator sets, by Envoy's short code.
const (
	FlagUT  Flags = 1 << (3 - 1)  // upstream_request_timeout
	FlagUF  Flags = 1 << (6 - 1)  // upstream_connection_failure
	FlagUO  Flags = 1 << (8 - 1)  // upstream_overflow
	FlagNR  Flags = 1 << (9 - 1)  // no_route_found
	FlagURX Flags = 1 << (16 - 1) // upstream_retry_limit_exceeded
)

var flagCodes = map[Flags]string{FlagUT: "UT", FlagUF: "UF", FlagUO: "UO", FlagNR: "NR", FlagURX: "URX"}

// String renders the flags as Envoy's %RESPONSE_FLAGS% does, codes joined by ",", "-" for
// none; a flag the simulator never sets shows as its field number.
func (f Flags) String() string {
	if f == 0 {
		return "-"
	}
	var codes []string
	for i := 0; f>>i != 0; i++ {
		bit := f & (1 << i)
		if bit == 0 {
			continue
		}
		code, ok := flagCodes[bit]
		if !ok {
			code = "field" + strconv.Itoa(i+1)
		}
		codes = append(codes, code)
	}
	return strings.Join(codes, ",")
}

// Proto returns the flags as the message Envoy sends; Envoy always sends one, empty when
// no flag is set.
func (f Flags) Proto() *accesslogv3.ResponseFlags {
	out := &accesslogv3.ResponseFlags{}
	m := out.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := 0; f>>i != 0; i++ {
		if f&(1<<i) == 0 {
			continue
		}
		if fd := fields.ByNumber(protoreflect.FieldNumber(i + 1)); fd != nil && fd.Kind() == protoreflect.BoolKind {
			m.Set(fd, protoreflect.ValueOfBool(true))
		}
	}
	return out
}

// FlagsOf reads the flags set in an entry's response_flags message.
func FlagsOf(m *accesslogv3.ResponseFlags) Flags {
	var f Flags
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if n := fd.Number(); n >= 1 && n <= 64 {
			f |= 1 << (n - 1)
		}
		return true
	})
	return f
}
