package jaeger

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// sender batches queued spans and exports them, one batch at a time, with retries.
type sender struct {
	cfg    Config
	tel    *telemetry
	log    *slog.Logger
	queued *atomic.Int64
	client ptraceotlp.GRPCClient
	ctx    context.Context // ended by a Shutdown whose context ended: stop sending
}

// run sends what the queue holds until it is closed and empty.
func (s *sender) run(queue <-chan item) {
	batch := make([]item, 0, s.cfg.BatchSpans)
	timer := time.NewTimer(s.cfg.BatchTimeout)
	timer.Stop()
	defer timer.Stop()
	flush := func() {
		timer.Stop()
		if len(batch) > 0 {
			s.send(batch)
			clear(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case it, ok := <-queue:
			if !ok {
				flush()
				return
			}
			s.queued.Add(-1)
			if len(batch) == 0 {
				timer.Reset(s.cfg.BatchTimeout)
			}
			batch = append(batch, it)
			if len(batch) >= s.cfg.BatchSpans {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// send exports batch, retrying while Jaeger's answer is retryable and RetryMaxElapsed
// has not passed, and counts the outcome of every span in it.
func (s *sender) send(batch []item) {
	forwarded, synth := 0, 0
	for _, it := range batch {
		if it.synthesized {
			synth++
		} else {
			forwarded++
		}
	}
	n := len(batch)
	if s.ctx.Err() != nil {
		s.tel.drop(dropShutdown, n)
		return
	}
	req := ptraceotlp.NewExportRequestFromTraces(build(batch))
	giveUp := time.Now().Add(s.cfg.RetryMaxElapsed)
	delay := s.cfg.InitialBackoff
	for {
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
		resp, err := s.client.Export(ctx, req)
		cancel()
		if err == nil {
			rejected := int(min(max(resp.PartialSuccess().RejectedSpans(), 0), int64(n)))
			if rejected > 0 {
				s.log.Warn("jaeger rejected spans", "rejected", rejected, "message", resp.PartialSuccess().ErrorMessage())
			}
			s.tel.drop(dropRejected, rejected)
			// A partial success does not say which spans: count the rejected against the
			// forwarded ones first.
			fr := min(rejected, forwarded)
			s.tel.exportedForwarded.Add(float64(forwarded - fr))
			s.tel.exportedSynthesized.Add(float64(synth - (rejected - fr)))
			s.tel.exportLag.Set(oldestLag(batch, time.Now()))
			return
		}
		s.tel.failures.Inc()
		switch {
		case s.ctx.Err() != nil:
			s.tel.drop(dropShutdown, n)
			return
		case !retryable(err):
			s.log.Warn("jaeger export failed for good", "spans", n, "err", err)
			s.tel.drop(dropRejected, n)
			return
		case time.Now().Add(delay).After(giveUp):
			s.log.Warn("jaeger export retries exhausted", "spans", n, "err", err)
			s.tel.drop(dropRetriesExhausted, n)
			return
		}
		s.log.Debug("jaeger export failed, retrying", "spans", n, "in", delay, "err", err)
		t := time.NewTimer(jitter(delay))
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			s.tel.drop(dropShutdown, n)
			return
		}
		delay = min(delay*2, s.cfg.MaxBackoff)
	}
}

// retryable reports whether OTLP lets a client retry a request that failed with err.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange,
		codes.Unavailable, codes.DataLoss, codes.ResourceExhausted:
		return true
	}
	return false
}

// jitter spreads d by ±25%, so that sinks that lost Jaeger together do not retry together.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}

// build moves batch's spans into one Traces, one ResourceSpans and ScopeSpans per origin,
// in the order origins first appear.
func build(batch []item) ptrace.Traces {
	td := ptrace.NewTraces()
	slices := make(map[*origin]ptrace.SpanSlice)
	for _, it := range batch {
		spans, ok := slices[it.from]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			it.from.res.CopyTo(rs.Resource())
			ss := rs.ScopeSpans().AppendEmpty()
			it.from.scope.CopyTo(ss.Scope())
			spans = ss.Spans()
			slices[it.from] = spans
		}
		it.span.MoveTo(spans.AppendEmpty())
	}
	return td
}

// copyResource and copyScope copy what spans came under, to keep with them.
func copyResource(rs ptrace.ResourceSpans) pcommon.Resource {
	r := pcommon.NewResource()
	rs.Resource().CopyTo(r)
	return r
}

func copyScope(ss ptrace.ScopeSpans) pcommon.InstrumentationScope {
	s := pcommon.NewInstrumentationScope()
	ss.Scope().CopyTo(s)
	return s
}

// oldestLag is how long the oldest span of batch waited in the export queue before Jaeger
// took it.
func oldestLag(batch []item, now time.Time) float64 {
	if len(batch) == 0 {
		return 0
	}
	oldest := batch[0].queued
	for _, it := range batch[1:] {
		if it.queued.Before(oldest) {
			oldest = it.queued
		}
	}
	return now.Sub(oldest).Seconds()
}
