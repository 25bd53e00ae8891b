package loki

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edgetel/edgetel/als"
)

// fakeLoki is a push endpoint whose answers a test sets. It keeps the request IDs of the
// lines it accepted.
type fakeLoki struct {
	*httptest.Server
	mu       sync.Mutex
	answer   func(n int) int // status for the nth request (0-based); nil: 204
	requests int
	batches  []int
	accepted []string
	labels   map[string]bool
	hold     chan struct{} // when set, requests wait for it to close
}

func newFakeLoki(t *testing.T) *fakeLoki {
	f := &fakeLoki{labels: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeLoki) serve(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/loki/api/v1/push" || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "wrong path or content type", http.StatusNotFound)
		return
	}
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	var r io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r = zr
	}
	body, err := io.ReadAll(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var push struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(body, &push); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.requests
	f.requests++
	if f.answer != nil {
		if code := f.answer(n); code/100 != 2 {
			http.Error(w, "fake failure", code)
			return
		}
	}
	lines := 0
	for _, s := range push.Streams {
		lb, _ := json.Marshal(s.Stream)
		f.labels[string(lb)] = true
		for _, v := range s.Values {
			var line struct {
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(v[1]), &line); err != nil {
				panic(fmt.Sprintf("line is not JSON: %v: %s", err, v[1]))
			}
			f.accepted = append(f.accepted, line.RequestID)
			lines++
		}
	}
	f.batches = append(f.batches, lines)
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeLoki) setAnswer(a func(int) int) { f.mu.Lock(); f.answer = a; f.mu.Unlock() }

func (f *fakeLoki) got() (accepted []string, batches []int, requests int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.accepted...), append([]int(nil), f.batches...), f.requests
}

// records returns n records with request IDs prefix-0, prefix-1, ...
func records(prefix string, n int) []als.Record {
	out := make([]als.Record, n)
	for i := range out {
		out[i] = testRecord()
		out[i].RequestID = fmt.Appendf(nil, "%s-%d", prefix, i)
	}
	return out
}

// fastConfig batches quickly and retries quickly.
func fastConfig(url string) Config {
	return Config{URL: url, BatchLines: 10, BatchWait: 20 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRetries: 3}
}

func start(t *testing.T, cfg Config) *Exporter {
	t.Helper()
	x, err := New(cfg, testEdge(true), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Shutdown(context.Background()) })
	return x
}

func shutdown(t *testing.T, x *Exporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := x.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func dropped(x *Exporter) float64 {
	t := x.tel
	return testutil.ToFloat64(t.droppedBufferFull) + testutil.ToFloat64(t.droppedSendFailed) +
		testutil.ToFloat64(t.droppedRejected) + testutil.ToFloat64(t.droppedShutdown) +
		testutil.ToFloat64(t.droppedNotRunning)
}

func TestBatchesAreCutBySizeAndSentAfterTheWait(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("uncompressed=%v", plain), func(t *testing.T) { testBatches(t, plain) })
	}
}

func testBatches(t *testing.T, uncompressed bool) {
	f := newFakeLoki(t)
	cfg := fastConfig(f.URL)
	cfg.Uncompressed = uncompressed
	x := start(t, cfg)
	x.ConsumeRecords(records("a", 35))
	shutdown(t, x)
	accepted, batches, _ := f.got()
	if len(accepted) != 35 {
		t.Fatalf("Loki got %d lines, want 35", len(accepted))
	}
	for _, b := range batches {
		if b > 10 {
			t.Errorf("a batch of %d lines, BatchLines is 10: %v", b, batches)
		}
	}
	if got := testutil.ToFloat64(x.tel.linesSent); got != 35 {
		t.Errorf("lines_sent_total %v, want 35", got)
	}
	if len(f.labels) != 1 {
		t.Errorf("streams %v, want one", f.labels)
	}
}

func TestABatchThatGets500sIsRetriedUntilLokiTakesIt(t *testing.T) {
	f := newFakeLoki(t)
	f.setAnswer(func(n int) int {
		if n < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	x := start(t, fastConfig(f.URL))
	x.ConsumeRecords(records("a", 5))
	shutdown(t, x)
	if accepted, _, requests := f.got(); len(accepted) != 5 || requests != 3 {
		t.Errorf("Loki took %d lines in %d requests, want 5 in 3", len(accepted), requests)
	}
	if got := testutil.ToFloat64(x.tel.retries); got != 2 {
		t.Errorf("retries_total %v, want 2", got)
	}
	if d := dropped(x); d != 0 {
		t.Errorf("%v lines dropped, want none", d)
	}
}

func TestABatchLokiRefusesIsNotRetriedAndCountsAsRejected(t *testing.T) {
	f := newFakeLoki(t)
	f.setAnswer(func(int) int { return http.StatusBadRequest })
	x := start(t, fastConfig(f.URL))
	x.ConsumeRecords(records("a", 4))
	shutdown(t, x)
	if _, _, requests := f.got(); requests != 1 {
		t.Errorf("%d requests, want 1", requests)
	}
	if got := testutil.ToFloat64(x.tel.droppedRejected); got != 4 {
		t.Errorf("rejected drops %v, want 4", got)
	}
	if got := testutil.ToFloat64(x.tel.batchesFailed); got != 1 {
		t.Errorf("batches_failed_total %v, want 1", got)
	}
}

func TestALokiDownForAWhileLosesExactlyWhatTheCountersSay(t *testing.T) {
	f := newFakeLoki(t)
	var down sync.Mutex
	isDown := true
	f.setAnswer(func(int) int {
		down.Lock()
		defer down.Unlock()
		if isDown {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	cfg := fastConfig(f.URL)
	cfg.BufferLines = 30
	x := start(t, cfg)
	sent := 0
	for i := range 20 {
		x.ConsumeRecords(records(fmt.Sprint("down", i), 10))
		sent += 10
		time.Sleep(5 * time.Millisecond)
	}
	down.Lock()
	isDown = false
	down.Unlock()
	for i := range 5 {
		x.ConsumeRecords(records(fmt.Sprint("up", i), 10))
		sent += 10
		time.Sleep(5 * time.Millisecond)
	}
	shutdown(t, x)
	accepted, _, _ := f.got()
	full, failed := testutil.ToFloat64(x.tel.droppedBufferFull), testutil.ToFloat64(x.tel.droppedSendFailed)
	t.Logf("sent %d, Loki took %d, dropped %v for a full buffer and %v after retries", sent, len(accepted), full, failed)
	if full == 0 || failed == 0 {
		t.Errorf("want drops for both a full buffer and failed retries")
	}
	if float64(sent-len(accepted)) != dropped(x) {
		t.Errorf("%d lines missing from Loki, %v counted as dropped", sent-len(accepted), dropped(x))
	}
	if got := testutil.ToFloat64(x.tel.linesSent); got != float64(len(accepted)) {
		t.Errorf("lines_sent_total %v, Loki took %d", got, len(accepted))
	}
}

func TestAnUnreachableLokiCountsRetriesAndFailedBatches(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	x := start(t, fastConfig(url))
	x.ConsumeRecords(records("a", 10))
	shutdown(t, x)
	if got := testutil.ToFloat64(x.tel.droppedSendFailed); got != 10 {
		t.Errorf("send_failed drops %v, want 10", got)
	}
	if got := testutil.ToFloat64(x.tel.retries); got != 3 {
		t.Errorf("retries_total %v, want MaxRetries 3", got)
	}
}

func TestAFullBufferDropsTheNewestLines(t *testing.T) {
	f := newFakeLoki(t)
	f.hold = make(chan struct{})
	cfg := fastConfig(f.URL)
	cfg.BufferLines, cfg.BatchWait = 10, time.Hour
	x := start(t, cfg)
	x.ConsumeRecords(records("old", 10)) // a full batch: the sender takes it and waits on Loki
	x.ConsumeRecords(records("new", 5))
	if got := testutil.ToFloat64(x.tel.droppedBufferFull); got != 5 {
		t.Errorf("buffer_full drops %v, want 5", got)
	}
	if got := x.linesBuf.Load(); got != 10 {
		t.Errorf("buffer_lines %d, want 10", got)
	}
	close(f.hold)
	shutdown(t, x)
	accepted, _, _ := f.got()
	if len(accepted) != 10 || accepted[0] != "old-0" {
		t.Errorf("Loki took %v, want old-0 to old-9", accepted)
	}
}

func TestShutdownSendsWhatIsBufferedAndIsSafeTwiceAndWithoutStart(t *testing.T) {
	f := newFakeLoki(t)
	cfg := fastConfig(f.URL)
	cfg.BatchWait = time.Hour
	x, err := New(cfg, testEdge(true), nil)
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, x) // without Start
	x.ConsumeRecords(records("early", 2))
	if got := testutil.ToFloat64(x.tel.droppedNotRunning); got != 2 {
		t.Errorf("not_running drops %v, want 2", got)
	}
	for round := range 2 { // start, stop, start again
		if err := x.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := x.Start(context.Background()); !errors.Is(err, ErrAlreadyStarted) {
			t.Errorf("second Start: %v, want ErrAlreadyStarted", err)
		}
		x.ConsumeRecords(records(fmt.Sprint("r", round), 3))
		shutdown(t, x)
		shutdown(t, x)
	}
	if accepted, _, _ := f.got(); len(accepted) != 6 {
		t.Errorf("Loki took %d lines, want 6 drained by Shutdown", len(accepted))
	}
}

func TestShutdownGivesUpWhenItsContextEndsAndCountsWhatIsLeft(t *testing.T) {
	f := newFakeLoki(t)
	f.hold = make(chan struct{})
	defer close(f.hold)
	cfg := fastConfig(f.URL)
	cfg.BatchWait = time.Hour
	x := start(t, cfg)
	x.ConsumeRecords(records("a", 25))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := x.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want a deadline error", err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("Shutdown took %s with a 200ms context", took)
	}
	if got := testutil.ToFloat64(x.tel.droppedShutdown); got != 25 {
		t.Errorf("shutdown drops %v, want 25", got)
	}
}

func TestConsumingAllocatesOnlyEachLine(t *testing.T) {
	f := newFakeLoki(t)
	cfg := fastConfig(f.URL)
	cfg.BatchLines, cfg.BufferLines, cfg.BatchWait = 100000, 1000000, time.Hour
	x := start(t, cfg)
	batch := records("a", 100)
	x.ConsumeRecords(batch)
	allocs := testing.AllocsPerRun(50, func() { x.ConsumeRecords(batch) })
	if perLine := allocs / 100; perLine > 1.05 {
		t.Errorf("%.2f allocations per record, want 1 (the line's copy)", perLine)
	}
}

func TestConfigsOutOfRangeAreRefusedByName(t *testing.T) {
	for _, c := range []Config{
		{},
		{URL: "loki:3100"},
		{URL: "http://loki", BatchLines: -1},
		{URL: "http://loki", BufferLines: 5, BatchLines: 10},
		{URL: "http://loki", MinBackoff: time.Second, MaxBackoff: time.Millisecond},
	} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v, want ErrInvalidConfig", c, err)
		}
	}
	if err := (Config{URL: "http://127.0.0.1:3100/"}).Validate(); err != nil {
		t.Errorf("a URL alone: %v", err)
	}
}
