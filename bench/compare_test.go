package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/internal/testenv"
)

// TestCompareCountsExactly runs the whole harness briefly: `edgetel sink` (built from this
// tree) as ALS and as OTLP logs, and the OpenTelemetry Collector peer, each under a paced
// load with latency markers, and checks that each side's /metrics shows exactly what the
// generator sent. It asserts no timing: the machine may be shared.
func TestCompareCountsExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three processes under load for ~15 s")
	}
	peer := testenv.Tool(t, "edgetel-otelcol")
	dir := t.TempDir()
	cfg := Config{
		EdgetelBin: buildEdgetel(t, dir), PeerBin: peer, Core: -1, Dir: dir,
		// Paced well below saturation: at the maximum rate the sink sheds ALS entries by
		// design (and counts them), which makes per-route counts inexact.
		Streams: 2, Rate: 10_000, Duration: 3 * time.Second, MaxEntries: 100_000,
		// The peer's counts are exact with one stream only: signal_to_metrics stamps each
		// request's deltas with the time it began them, and deltatocumulative drops a delta
		// older than one it already added, which concurrent Exports produce.
		PeerStreams: 1,
		Protocols:   []string{ALS, OTLP}, CorpusSize: 2_000, MarkerEvery: 200 * time.Millisecond,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results, err := Compare(ctx, cfg)
	var table strings.Builder
	WriteTable(&table, results)
	WriteDiffs(&table, results)
	t.Logf("\n%s", table.String())
	if err != nil {
		logTails(t, dir)
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("got %d results, want edgetel (ALS), edgetel (OTLP logs) and the peer", len(results))
	}
	for _, r := range results {
		switch {
		case r.Counted == 0 || r.Counted != r.Entries:
			t.Errorf("%s: /metrics counted %d of the %d entries sent", r.Side, r.Counted, r.Entries)
		case !r.Exact:
			t.Errorf("%s: counts differ from the truth: %v", r.Side, r.Diffs)
		case r.Drops != 0:
			t.Errorf("%s: %d entries dropped below saturation", r.Side, r.Drops)
		}
		if len(r.Probe.Latencies) == 0 {
			t.Errorf("%s: the latency probe saw no marker arrive (%d lost)", r.Side, r.Probe.Lost)
		}
	}
}

// buildEdgetel builds cmd/edgetel into dir: the harness runs the binary, as a user would.
func buildEdgetel(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build cmd/edgetel with")
	}
	bin := filepath.Join(dir, "edgetel")
	// Without PGO, as go test builds (Makefile): the dependencies are compiled once.
	cmd := exec.Command(goBin, "build", "-pgo=off", "-o", bin, "../cmd/edgetel")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building cmd/edgetel: %v\n%s", err, out)
	}
	return bin
}

func logTails(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		t.Logf("%s:\n%s", filepath.Base(l), b[max(0, len(b)-4000):])
	}
}
