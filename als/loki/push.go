package loki

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// errStatus is a push that Loki answered with a status other than 2xx.
type errStatus struct {
	code int
	body string
}

func (e *errStatus) Error() string { return fmt.Sprintf("loki answered %d: %s", e.code, e.body) }

// retryable reports whether a failed push may succeed later: Loki asked to slow down, failed
// on its side, or could not be reached.
func retryable(err error) bool {
	var st *errStatus
	if errors.As(err, &st) {
		return st.code == http.StatusTooManyRequests || st.code >= 500
	}
	return true
}

// sender is the sending goroutine's reusable state.
type sender struct {
	x      *Exporter
	batch  []entry
	body   []byte
	gz     *gzip.Writer
	zbody  bytes.Buffer
	groups map[*stream][]int
	order  []*stream
}

// send runs the sender until stop is closed and the buffer is empty, or ctx ends.
func (x *Exporter) send(ctx context.Context, wake, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	s := &sender{x: x, groups: map[*stream][]int{}}
	tick := time.NewTicker(x.cfg.BatchWait)
	defer tick.Stop()
	for {
		all := true // send partial batches too
		select {
		case <-wake:
			all = false
		case <-tick.C:
		case <-stop:
			s.drain(ctx)
			return
		}
		for n := x.pendingLines(); n > 0 && (all || n >= x.cfg.BatchLines); n = x.pendingLines() {
			s.sendBatch(ctx)
		}
	}
}

// drain sends what is buffered; once ctx ends, what is left is dropped and counted.
func (s *sender) drain(ctx context.Context) {
	for s.x.pendingLines() > 0 {
		if ctx.Err() != nil {
			s.batch = s.x.take(s.batch)
			s.x.tel.droppedShutdown.Add(float64(len(s.batch)))
			s.x.release(s.batch)
			continue
		}
		s.sendBatch(ctx)
	}
}

// sendBatch takes a batch from the buffer and pushes it, retrying with backoff; a batch that
// still fails is dropped and counted.
func (s *sender) sendBatch(ctx context.Context) {
	x := s.x
	s.batch = x.take(s.batch)
	defer func() {
		x.release(s.batch)
		clear(s.batch)
	}()
	s.encode()
	body := s.body
	if !x.cfg.Uncompressed {
		body = s.compress()
	}
	backoff := x.cfg.MinBackoff
	for attempt := 0; ; attempt++ {
		err := x.post(ctx, body)
		if err == nil {
			x.tel.batchesSent.Inc()
			x.tel.linesSent.Add(float64(len(s.batch)))
			x.tel.exportLag.Set(oldestLag(s.batch, time.Now()))
			return
		}
		drop := x.tel.droppedSendFailed
		switch {
		case ctx.Err() != nil:
			drop = x.tel.droppedShutdown
		case !retryable(err):
			drop = x.tel.droppedRejected
		case attempt < x.cfg.MaxRetries:
			x.tel.retries.Inc()
			// Between half the backoff and all of it, so that sinks retry out of step.
			t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
			select {
			case <-t.C:
				backoff = min(2*backoff, x.cfg.MaxBackoff)
				continue
			case <-ctx.Done():
				t.Stop()
				drop = x.tel.droppedShutdown
			}
		}
		x.tel.batchesFailed.Inc()
		drop.Add(float64(len(s.batch)))
		x.log.Warn("Loki batch dropped", "lines", len(s.batch), "attempts", attempt+1, "error", err)
		return
	}
}

// encode writes the batch as a push request body, lines grouped by stream:
// {"streams":[{"stream":{...},"values":[["<ns>","<line>"],...]},...]}.
func (s *sender) encode() {
	for _, st := range s.order {
		s.groups[st] = s.groups[st][:0]
	}
	s.order = s.order[:0]
	for i := range s.batch {
		st := s.batch[i].st
		idx, ok := s.groups[st]
		if !ok || len(idx) == 0 {
			s.order = append(s.order, st)
		}
		s.groups[st] = append(idx, i)
	}
	b := append(s.body[:0], `{"streams":[`...)
	for k, st := range s.order {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":`...)
		b = append(b, st.labels...)
		b = append(b, `,"values":[`...)
		for j, i := range s.groups[st] {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = strconv.AppendInt(b, s.batch[i].ts, 10)
			b = append(b, `",`...)
			b = appendBytes(b, s.batch[i].line)
			b = append(b, ']')
		}
		b = append(b, "]}"...)
	}
	s.body = append(b, "]}"...)
	// Streams that were not in this batch are forgotten, so that a model's old routes go.
	if len(s.groups) > 2*len(s.order)+16 {
		clear(s.groups)
	}
}

// compress gzips the body into a reused buffer.
func (s *sender) compress() []byte {
	s.zbody.Reset()
	if s.gz == nil {
		s.gz, _ = gzip.NewWriterLevel(&s.zbody, gzip.BestSpeed) // a valid level: no error
	} else {
		s.gz.Reset(&s.zbody)
	}
	_, _ = s.gz.Write(s.body) // a bytes.Buffer does not fail
	_ = s.gz.Close()
	return s.zbody.Bytes()
}

// post sends one push request.
func (x *Exporter) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.pushURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if !x.cfg.Uncompressed {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("User-Agent", "edgetel")
	if x.cfg.TenantID != "" {
		req.Header.Set("X-Scope-OrgID", x.cfg.TenantID)
	}
	start := time.Now()
	resp, err := x.client.Do(req)
	x.tel.sendDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	if resp.StatusCode/100 != 2 {
		return &errStatus{code: resp.StatusCode, body: string(bytes.TrimSpace(msg))}
	}
	return nil
}

// oldestLag is how long the oldest line of batch waited in the sink before Loki took it.
func oldestLag(batch []entry, now time.Time) float64 {
	if len(batch) == 0 {
		return 0
	}
	oldest := batch[0].queued
	for _, e := range batch[1:] {
		oldest = min(oldest, e.queued)
	}
	return now.Sub(time.Unix(0, oldest)).Seconds()
}
