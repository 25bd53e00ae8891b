package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// testEpoch fixes start times, so that runs can be compared entry for entry.
var testEpoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func testConfig(t testing.TB, addr string) Config {
	t.Helper()
	c := DefaultConfig(exampleEdge(t))
	c.Address, c.Epoch = addr, testEpoch
	return c
}

func newFleet(t testing.TB, c Config) *Fleet {
	t.Helper()
	f, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Shutdown(context.Background()) })
	return f
}

// testContext bounds a test: generous, since the race detector on a loaded machine is
// many times slower than the few seconds the tests take.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestEachNodeOpensOneStreamWhoseFirstMessageAloneCarriesTheIdentifier(t *testing.T) {
	srv := startFakeALS(t, 0)
	f := newFleet(t, testConfig(t, srv.addr))
	if err := f.SendN(testContext(t), 1500); err != nil {
		t.Fatal(err)
	}
	nodes := byNode(t, srv.snapshot())
	if len(nodes) != DefaultNodes {
		t.Fatalf("streams came from %d nodes, want %d", len(nodes), DefaultNodes)
	}
	for i := range DefaultNodes {
		id := fmt.Sprintf("edge-%d", i)
		streams := nodes[id]
		if len(streams) != 1 {
			t.Fatalf("node %s opened %d streams, want 1", id, len(streams))
		}
		msgs := streams[0]
		ident := msgs[0].msg.GetIdentifier()
		if ident.GetNode().GetCluster() != "edge" || ident.GetLogName() != LogName {
			t.Errorf("node %s: identifier %v, want cluster edge and log name %q", id, ident, LogName)
		}
		for j, m := range msgs[1:] {
			if m.msg.GetIdentifier() != nil {
				t.Errorf("node %s: message %d carries an identifier; only the first may", id, j+1)
			}
		}
		if len(msgs) < 10 {
			t.Errorf("node %s sent %d messages: 500 entries should take ~16 batches", id, len(msgs))
		}
	}
}

func TestABatchIsFlushedAsSoonAsItsEntriesReachTheBufferSize(t *testing.T) {
	srv := startFakeALS(t, 0)
	c := testConfig(t, srv.addr)
	c.FlushInterval = time.Hour // size alone decides
	f := newFleet(t, c)
	if err := f.SendN(testContext(t), 1500); err != nil {
		t.Fatal(err)
	}
	for _, s := range srv.snapshot() {
		for j, m := range s {
			entries := m.msg.GetHttpLogs().GetLogEntry()
			sum, last := 0, 0
			for _, e := range entries {
				last = proto.Size(e)
				sum += last
			}
			// Envoy adds an entry, then flushes once the buffer reached its size: what came
			// before the last entry was still under it.
			if sum-last >= DefaultBufferSize {
				t.Errorf("message %d: %d bytes before its last entry, want under %d", j, sum-last, DefaultBufferSize)
			}
			if j < len(s)-1 && sum < DefaultBufferSize {
				t.Errorf("message %d of %d: %d bytes flushed before reaching %d", j, len(s), sum, DefaultBufferSize)
			}
		}
	}
}

func TestInRealTimeABatchIsFlushedWithinTheFlushInterval(t *testing.T) {
	srv := startFakeALS(t, 0)
	c := testConfig(t, srv.addr)
	c.Epoch, c.Nodes, c.Rate, c.FlushInterval = time.Time{}, 1, 50, 200*time.Millisecond
	f := newFleet(t, c)
	if err := f.Start(testContext(t)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	if err := f.Shutdown(testContext(t)); err != nil {
		t.Fatal(err)
	}
	streams := srv.snapshot()
	if len(streams) != 1 || len(streams[0]) < 3 {
		t.Fatalf("got %d streams (%v), want one with a message every 200ms", len(streams), streams)
	}
	// The timer, not the size, flushed each batch, so a batch spans at most one interval of
	// traffic. Delivery is measured loosely: a loaded machine can stall a goroutine.
	const slack = 100 * time.Millisecond
	for j, m := range streams[0] {
		entries := m.msg.GetHttpLogs().GetLogEntry()
		oldest := entries[0].GetCommonProperties().GetStartTime().AsTime()
		newest := entries[len(entries)-1].GetCommonProperties().GetStartTime().AsTime()
		if size := proto.Size(m.msg); size >= DefaultBufferSize {
			t.Errorf("message %d holds %d bytes: the size, not the timer, flushed it", j, size)
		}
		if span := newest.Sub(oldest); span > c.FlushInterval+slack {
			t.Errorf("message %d spans %v of traffic, want at most the %v interval", j, span, c.FlushInterval)
		}
		if wait := m.at.Sub(oldest); wait > c.FlushInterval+time.Second {
			t.Errorf("message %d: its oldest entry waited %v to arrive, want about %v", j, wait, c.FlushInterval)
		}
	}
	if got, want := entryCount(streams), f.Truth().Sent; uint64(got) != want {
		t.Errorf("the server read %d entries, the truth says %d were sent", got, want)
	}
}

func TestTheSameSeedSendsTheSameEntries(t *testing.T) {
	const k = 600
	run := func(seed uint64) map[string][][]received {
		srv := startFakeALS(t, 0)
		c := testConfig(t, srv.addr)
		c.Seed = seed
		if err := newFleet(t, c).SendN(testContext(t), k); err != nil {
			t.Fatal(err)
		}
		return byNode(t, srv.snapshot())
	}
	a, b, other := run(7), run(7), run(8)
	for node, as := range a {
		ea, eb, eo := as[0][0].msg.GetHttpLogs().GetLogEntry(), b[node][0][0].msg.GetHttpLogs().GetLogEntry(),
			other[node][0][0].msg.GetHttpLogs().GetLogEntry()
		if len(ea) != len(eb) {
			t.Fatalf("node %s: first batches of %d and %d entries", node, len(ea), len(eb))
		}
		for i := range ea {
			if !proto.Equal(ea[i], eb[i]) {
				t.Fatalf("node %s entry %d differs between runs with one seed:\n%v\n%v", node, i, ea[i], eb[i])
			}
		}
		if proto.Equal(ea[0], eo[0]) {
			t.Errorf("node %s: seeds 7 and 8 made the same first entry", node)
		}
	}
}

func TestStartStopStartResumesTheTrafficAndLosesNothing(t *testing.T) {
	srv := startFakeALS(t, 0)
	c := testConfig(t, srv.addr)
	c.Epoch, c.Nodes, c.FlushInterval = time.Time{}, 2, 100*time.Millisecond
	f := newFleet(t, c)
	ctx := testContext(t)
	if err := f.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown before Start: %v", err)
	}
	for round := range 2 {
		if err := f.Start(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := f.Start(ctx); !errors.Is(err, ErrRunning) {
			t.Errorf("round %d: a second Start returned %v, want ErrRunning", round, err)
		}
		if err := f.SendN(ctx, 1); !errors.Is(err, ErrRunning) {
			t.Errorf("round %d: SendN while running returned %v, want ErrRunning", round, err)
		}
		time.Sleep(250 * time.Millisecond)
		if err := f.Shutdown(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := f.Shutdown(ctx); err != nil {
			t.Fatalf("round %d: a second Shutdown returned %v", round, err)
		}
	}
	truth := f.Truth()
	streams := srv.snapshot()
	if len(streams) != 4 {
		t.Errorf("two runs of two nodes opened %d streams, want 4", len(streams))
	}
	for node, ss := range byNode(t, streams) { // byNode checks every stream's identifier
		if len(ss) != 2 {
			t.Errorf("node %s opened %d streams, want one per run", node, len(ss))
		}
	}
	if !truth.Exact() || truth.Lost != 0 || truth.Sent == 0 {
		t.Errorf("after clean stops: exact %v, %d lost, %d sent; want exact, none lost", truth.Exact(), truth.Lost, truth.Sent)
	}
	if got := entryCount(streams); uint64(got) != truth.Sent {
		t.Errorf("the server read %d entries, the truth says %d were sent", got, truth.Sent)
	}
}

func TestABrokenStreamIsReopenedWithTheIdentifierAndItsLossesAreCounted(t *testing.T) {
	srv := startFakeALS(t, 3)
	c := testConfig(t, srv.addr)
	c.Nodes, c.ReconnectBackoff = 1, time.Millisecond
	f := newFleet(t, c)
	err := f.SendN(testContext(t), 3000)
	if !errors.Is(err, ErrLost) {
		t.Fatalf("SendN returned %v, want ErrLost", err)
	}
	truth := f.Truth()
	nt := truth.Nodes["edge-0"]
	streams := srv.snapshot()
	got := uint64(entryCount(streams))
	switch {
	case len(streams) < 2:
		t.Errorf("%d streams: the node did not reopen its stream", len(streams))
	case nt.Generated != 3000 || nt.Sent+nt.Lost != nt.Generated:
		t.Errorf("generated %d = sent %d + lost %d, want 3000", nt.Generated, nt.Sent, nt.Lost)
	case nt.Lost == 0 || nt.Failures == 0 || nt.LastError == "":
		t.Errorf("the broken stream cost nothing: %+v", nt)
	case got > nt.Sent || nt.Sent-got > nt.Unconfirmed:
		t.Errorf("the server read %d of %d sent; only the %d unconfirmed may be missing", got, nt.Sent, nt.Unconfirmed)
	case truth.Exact():
		t.Error("a truth with a broken stream says it is exact")
	}
	byNode(t, streams) // every stream, the reopened one too, starts with the identifier
}

func TestAFleetStartedBeforeItsSinkDropsWhatItLogsUntilTheSinkIsUp(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there until the sink starts
	c := testConfig(t, addr)
	c.Epoch, c.Nodes, c.FlushInterval, c.ReconnectBackoff = time.Time{}, 1, 50*time.Millisecond, 20*time.Millisecond
	f := newFleet(t, c)
	ctx := testContext(t)
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	srv := startFakeALSAt(t, addr, 0)
	deadline := time.Now().Add(5 * time.Second)
	for entryCount(srv.snapshot()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if err := f.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	truth, got := f.Truth(), uint64(entryCount(srv.snapshot()))
	if truth.Lost == 0 || truth.Sent == 0 || got != truth.Sent || !truth.Exact() {
		t.Errorf("lost %d, sent %d, server read %d, exact %v: want losses before the sink, then all delivered",
			truth.Lost, truth.Sent, got, truth.Exact())
	}
}
