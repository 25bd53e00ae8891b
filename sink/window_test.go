package sink_test

import (
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/edgetel/edgetel/internal/sinktest"
	"github.com/edgetel/edgetel/sink"
)

// TestTheSinkAdvertisesAFixedFlowControlWindow reads the sink's first HTTP/2 frames as an
// Envoy would: the stream window in SETTINGS_INITIAL_WINDOW_SIZE and the connection's in the
// WINDOW_UPDATE that follows. gRPC's own default advertises HTTP/2's 65,535 bytes for both
// and estimates the window later, growing it to 16 MiB when the sink is busy.
func TestTheSinkAdvertisesAFixedFlowControlWindow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window int
		want   uint32
	}{
		{"the default window is 2 MiB", 0, sink.DefaultWindowBytes},
		{"a configured window is the one advertised", 4 << 20, 4 << 20},
		{"the smallest window allowed is HTTP/2's default", sink.MinWindowBytes, sink.MinWindowBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sinktest.StartWith(t, nil, sink.Config{WindowBytes: tc.window})
			stream, conn := advertisedWindows(t, s.Addr().String())
			if stream != tc.want || conn != tc.want {
				t.Errorf("the sink advertised a stream window of %d bytes and a connection window of %d, want %d for both",
					stream, conn, tc.want)
			}
		})
	}
}

// advertisedWindows opens an HTTP/2 connection to addr and returns the stream and
// connection windows the server's first frames give it.
func advertisedWindows(t *testing.T, addr string) (stream, conn uint32) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	const initial = 65535 // HTTP/2's window until a peer says otherwise
	stream, conn = initial, initial
	sawSettings, sawUpdate := false, false
	// The server sends its SETTINGS, then any WINDOW_UPDATE of the connection, before it
	// reads a frame; a PING (gRPC's bandwidth estimate) or the SETTINGS ack may follow.
	for !sawSettings || !sawUpdate {
		f, err := fr.ReadFrame()
		if err != nil {
			if sawSettings { // no connection update: the connection keeps HTTP/2's window
				return stream, conn
			}
			t.Fatalf("reading the server's first frames: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			sawSettings = true
			if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
				stream = v
			}
			if err := fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
			// The update comes right after the settings, if at all: don't wait out the
			// deadline for it.
			if err := c.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				sawUpdate = true
				conn += f.Increment
			}
		}
	}
	return stream, conn
}
