package als

import (
	"strings"
	"testing"
)

func TestHostPortRendersAsJoinHostPort(t *testing.T) {
	long := strings.Repeat("a", 100)
	tests := []struct {
		name string
		h    HostPort
		want string
	}{
		{"an IPv4 address with a port is ip:port", HostPort{Host: []byte("10.8.14.203"), Port: 8080, HasPort: true}, "10.8.14.203:8080"},
		{"an IPv6 address with a port is in brackets", HostPort{Host: []byte("2001:db8::7"), Port: 443, HasPort: true}, "[2001:db8::7]:443"},
		{"the largest port is written whole", HostPort{Host: []byte("::1"), Port: 1<<32 - 1, HasPort: true}, "[::1]:4294967295"},
		{"port 0 is still a port", HostPort{Host: []byte("10.0.0.1"), HasPort: true}, "10.0.0.1:0"},
		{"an empty address with a port is the port alone", HostPort{Port: 80, HasPort: true}, ":80"},
		{"an address with a named port is the address alone", HostPort{Host: []byte("2001:db8::7")}, "2001:db8::7"},
		{"a host already joined is kept as is", HostPort{Host: []byte("10.1.2.3:8080")}, "10.1.2.3:8080"},
		{"a pipe is its path", HostPort{Host: []byte("/run/app.sock")}, "/run/app.sock"},
		{"a long host with a port is joined whole", HostPort{Host: []byte(long + ":b"), Port: 1, HasPort: true}, "[" + long + ":b]:1"},
		{"no host is nothing", HostPort{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.h.Append(nil)); got != tc.want {
				t.Errorf("Append = %q, want %q", got, tc.want)
			}
			if got := string(tc.h.Append([]byte("x="))); got != "x="+tc.want {
				t.Errorf("Append after x= gives %q, want %q", got, "x="+tc.want)
			}
			if zero := tc.h.IsZero(); zero != (tc.want == "") {
				t.Errorf("IsZero = %v for %q", zero, tc.want)
			}
			// Copy into slots of every size up to past the whole rendering: its head, as
			// the built-in copy keeps.
			for size := range len(tc.want) + 2 {
				dst := make([]byte, size)
				n := tc.h.Copy(dst)
				if want := tc.want[:min(size, len(tc.want))]; string(dst[:n]) != want {
					t.Errorf("Copy into %d bytes = %q, want %q", size, dst[:n], want)
				}
			}
		})
	}
}

func TestHostPortRendersWithoutAllocating(t *testing.T) {
	h := HostPort{Host: []byte("2001:db8::7"), Port: 443, HasPort: true}
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { dst = h.Append(dst[:0]) }); n != 0 {
		t.Errorf("Append allocates %v times into a buffer with room, want 0", n)
	}
	var slot [16]byte
	if n := testing.AllocsPerRun(100, func() { h.Copy(slot[:]) }); n != 0 {
		t.Errorf("Copy allocates %v times, want 0", n)
	}
}

func TestCloneOwnsTheUpstreamHost(t *testing.T) {
	host := []byte("10.0.0.7")
	r := Record{UpstreamHost: HostPort{Host: host, Port: 8080, HasPort: true}, Path: []byte("/x")}
	c := r.Clone()
	host[0] = '9'
	if got := string(c.UpstreamHost.Append(nil)); got != "10.0.0.7:8080" {
		t.Errorf("the clone's host is %q after the original changed, want 10.0.0.7:8080", got)
	}
}
