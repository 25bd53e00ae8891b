package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	pushpb "github.com/grafana/loki/pkg/push"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgetel/edgetel/als"
)

// fakeLoki is a push endpoint whose answers a test sets. It decodes what the client sends
// (snappy-compressed protobuf, as Loki does) and keeps the request IDs of the lines it
// accepted.
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
	if req.URL.Path != PushPath || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "wrong path or content type", http.StatusNotFound)
		return
	}
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	var push pushpb.PushRequest
	body, err := io.ReadAll(req.Body)
	if err == nil {
		body, err = snappy.Decode(nil, body)
	}
	if err == nil {
		err = push.Unmarshal(body)
	}
	if err != nil {
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
		f.labels[s.Labels] = true
		for _, e := range s.Entries {
			var line struct {
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(e.Line), &line); err != nil {
				panic(fmt.Sprintf("line is not JSON: %v: %s", err, e.Line))
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

// fastConfig batches quickly (about ten lines a batch) and retries quickly.
func fastConfig(url string) Config {
	return Config{URL: url, BatchBytes: 10 * lineBytes, BatchWait: 20 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRetries: 3}
}

// lineBytes is about the size of a test record's line.
var lineBytes = len(appendLine(nil, func() *als.Record { r := testRecord(); return &r }(), true))

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

// metrics scrapes x through a pedantic registry: name{reason} → value.
func metrics(t *testing.T, x *Exporter) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(x)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := strings.TrimPrefix(f.GetName(), "edgetel_loki_")
			for _, l := range m.GetLabel() {
				key += "{" + l.GetValue() + "}"
			}
			out[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return out
}

func dropped(m map[string]float64) float64 {
	return m["lines_dropped_total{buffer_full}"] + m["lines_dropped_total{send_failed}"] +
		m["lines_dropped_total{shutdown}"] + m["lines_dropped_total{not_running}"]
}

func TestLinesReachLokiInBatchesOfTheirStreams(t *testing.T) {
	f := newFakeLoki(t)
	x := start(t, fastConfig(f.URL))
	x.ConsumeRecords(records("a", 35))
	shutdown(t, x)
	accepted, batches, _ := f.got()
	if len(accepted) != 35 {
		t.Fatalf("Loki got %d lines, want 35", len(accepted))
	}
	if len(batches) < 3 {
		t.Errorf("batches %v: want 35 lines cut into batches of about 10", batches)
	}
	m := metrics(t, x)
	if m["lines_sent_total"] != 35 || dropped(m) != 0 || m["buffer_lines"] != 0 {
		t.Errorf("metrics %v: want 35 sent, none dropped or buffered", m)
	}
	want := `{job="edgetel", node_group="edge", route="shop/checkout", status_class="5xx"}`
	if len(f.labels) != 1 || !f.labels[want] {
		t.Errorf("streams %v, want only %s", f.labels, want)
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
	if m := metrics(t, x); m["retries_total"] != 2 || dropped(m) != 0 {
		t.Errorf("metrics %v: want 2 retries and no drop", m)
	}
}

func TestABatchLokiRefusesIsNotRetriedAndCountsAsFailed(t *testing.T) {
	f := newFakeLoki(t)
	f.setAnswer(func(int) int { return http.StatusBadRequest })
	x := start(t, fastConfig(f.URL))
	x.ConsumeRecords(records("a", 4))
	shutdown(t, x)
	if _, _, requests := f.got(); requests != 1 {
		t.Errorf("%d requests, want 1", requests)
	}
	if m := metrics(t, x); m["lines_dropped_total{send_failed}"] != 4 || m["retries_total"] != 0 {
		t.Errorf("metrics %v: want 4 send_failed drops, no retry", m)
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
	m := metrics(t, x)
	full, failed := m["lines_dropped_total{buffer_full}"], m["lines_dropped_total{send_failed}"]
	t.Logf("sent %d, Loki took %d, dropped %v for a full buffer and %v after retries", sent, len(accepted), full, failed)
	if full == 0 || failed == 0 {
		t.Errorf("want drops for both a full buffer and failed retries")
	}
	if float64(sent-len(accepted)) != dropped(m) {
		t.Errorf("%d lines missing from Loki, %v counted as dropped", sent-len(accepted), dropped(m))
	}
	if m["lines_sent_total"] != float64(len(accepted)) {
		t.Errorf("lines_sent_total %v, Loki took %d", m["lines_sent_total"], len(accepted))
	}
}

func TestAnUnreachableLokiCountsRetriesAndDropsTheBatch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	x := start(t, fastConfig(url))
	x.ConsumeRecords(records("a", 10))
	shutdown(t, x)
	if m := metrics(t, x); m["lines_dropped_total{send_failed}"] != 10 || m["retries_total"] != 3 {
		t.Errorf("metrics %v: want 10 send_failed drops after MaxRetries 3", m)
	}
}

func TestAFullBufferDropsTheNewestLines(t *testing.T) {
	f := newFakeLoki(t)
	f.hold = make(chan struct{})
	cfg := fastConfig(f.URL)
	cfg.BufferLines = 10
	x := start(t, cfg)
	x.ConsumeRecords(records("old", 10)) // the buffer's worth; Loki holds the first batch
	x.ConsumeRecords(records("new", 5))
	if m := metrics(t, x); m["lines_dropped_total{buffer_full}"] != 5 || m["buffer_lines"] != 10 {
		t.Errorf("metrics %v: want 5 buffer_full drops and 10 lines buffered", m)
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
	if m := metrics(t, x); m["lines_dropped_total{not_running}"] != 2 {
		t.Errorf("metrics %v: want 2 not_running drops", m)
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
	if m := metrics(t, x); m["lines_sent_total"] != 6 || m["buffer_lines"] != 0 {
		t.Errorf("metrics %v: want 6 sent, none buffered", m)
	}
}

func TestShutdownGivesUpWhenItsContextEndsAndCountsWhatIsLeft(t *testing.T) {
	f := newFakeLoki(t)
	f.hold = make(chan struct{})
	cfg := fastConfig(f.URL)
	cfg.BatchWait, cfg.BatchBytes = time.Hour, 1 // every line its own batch: Loki holds the first
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
	if m := metrics(t, x); m["lines_dropped_total{shutdown}"] < 20 {
		t.Errorf("metrics %v: want the lines not yet handed to the client (at least 20) dropped at shutdown", m)
	}
	close(f.hold) // the client's batches end, sent: every line is accounted for
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := metrics(t, x)
		if m["lines_sent_total"]+dropped(m) == 25 && m["buffer_lines"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics %v: want 25 lines sent or dropped", m)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConsumingAllocatesOnlyEachLine(t *testing.T) {
	f := newFakeLoki(t)
	f.hold = make(chan struct{})
	defer close(f.hold)
	cfg := fastConfig(f.URL)
	cfg.BufferLines, cfg.BufferBytes, cfg.BatchBytes = 1000000, 1<<30, 1
	x := start(t, cfg)
	// Three lines get the client sending (held by Loki) and the sender waiting on it, so
	// that only ConsumeRecords allocates below.
	x.ConsumeRecords(records("warm", 3))
	time.Sleep(100 * time.Millisecond)
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
		{URL: "http://loki", BatchBytes: -1},
		{URL: "http://loki", MaxNodeGroups: -1},
		{URL: "http://loki", BufferBytes: 5, BatchBytes: 10},
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

func TestTheClientsCountersAreFound(t *testing.T) {
	// New fails with errClientMetrics when a client version renames its counters: every
	// count of what Loki got would be wrong.
	if _, err := New(Config{URL: "http://127.0.0.1:1"}, nil, nil); err != nil {
		t.Fatal(err)
	}
}
