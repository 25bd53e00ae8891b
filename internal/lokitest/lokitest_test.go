package lokitest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/internal/testenv"
)

// TestPushQueryRestart pushes access-log-like lines with the plain JSON push API, finds one of
// them by trace ID with LogQL, then stops Loki, restarts it on the same port and data dir, and
// checks that the old line is still there and new pushes are accepted.
func TestPushQueryRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Loki")
	}
	t0 := time.Now()
	l := Start(t)
	t.Logf("loki ready in %s at %s", time.Since(t0).Round(time.Millisecond), l.URL)

	traceID, other := randomHex(t, 16), randomHex(t, 16)
	now := time.Now()
	// A raw push, exactly as an HTTP client without Loki's libraries would send it.
	body := fmt.Sprintf(`{"streams":[{"stream":{"job":"edgetel","route":"shop/checkout"},"values":[
		["%d","{\"status\":504,\"trace_id\":\"%s\"}"],
		["%d","{\"status\":200,\"trace_id\":\"%s\"}"]]}]}`,
		now.UnixNano(), traceID, now.Add(time.Millisecond).UnixNano(), other)
	resp, err := http.Post(l.URL+"/loki/api/v1/push", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("push: %s", resp.Status)
	}

	start, end := now.Add(-time.Minute), now.Add(time.Minute)
	byTrace := `{job="edgetel"} |= "` + traceID + `"`
	want := `{"status":504,"trace_id":"` + traceID + `"}`
	check := func(stage string) {
		t.Helper()
		var got []Entry
		eventually(t, 10*time.Second, func() error {
			got, err = l.QueryRange(t, byTrace, start, end)
			if err == nil && len(got) == 0 {
				err = fmt.Errorf("no entries")
			}
			return err
		})
		if len(got) != 1 || got[0].Line != want || len(got[0].Labels) != 2 || got[0].Labels["route"] != "shop/checkout" ||
			got[0].Labels["job"] != "edgetel" || !got[0].Time.Equal(time.Unix(0, now.UnixNano())) {
			t.Fatalf("%s: %s returned %+v, want one entry %s", stage, byTrace, got, want)
		}
	}
	check("before restart")
	all, err := l.QueryRange(t, `{job="edgetel"}`, start, end)
	if err != nil || len(all) != 2 {
		t.Fatalf(`{job="edgetel"}: %v, %+v; want 2 entries`, err, all)
	}

	url := l.URL
	l.Stop()
	if l.Running() {
		t.Fatal("running after Stop")
	}
	if err := l.Push(map[string]string{"job": "edgetel"}, time.Now(), "lost"); err == nil {
		t.Fatal("push to a stopped Loki succeeded")
	}
	t0 = time.Now()
	l.Restart()
	t.Logf("loki restarted in %s", time.Since(t0).Round(time.Millisecond))
	if l.URL != url {
		t.Fatalf("URL changed on restart: %s -> %s", url, l.URL)
	}
	check("after restart (WAL replay)")

	later := randomHex(t, 16)
	if err := l.Push(map[string]string{"job": "edgetel", "route": "shop/cart"}, time.Now(), "trace_id="+later); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		got, err := l.QueryRange(t, `{job="edgetel"} |= "`+later+`"`, start, time.Now().Add(time.Minute))
		if err == nil && (len(got) != 1 || got[0].Labels["route"] != "shop/cart") {
			err = fmt.Errorf("got %+v", got)
		}
		return err
	})
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	testenv.Eventually(t, timeout, "condition", f)
}

func TestConfigPortsAndDir(t *testing.T) {
	c := Config("/d", 3100, 9096)
	for _, s := range []string{"http_listen_port: " + strconv.Itoa(3100), "grpc_listen_port: 9096",
		"path_prefix: /d", "schema: v13", "store: tsdb", "replication_factor: 1", "reporting_enabled: false"} {
		if !strings.Contains(c, s) {
			t.Errorf("config lacks %q", s)
		}
	}
}
