package loki

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	lokiclient "github.com/grafana/loki-client-go/loki"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	promodel "github.com/prometheus/common/model"
)

// client is what the sender needs of lokiclient.Client: Handle blocks while the client
// sends a batch; Stop sends the last batch, retries included, and returns.
type client interface {
	Handle(ls promodel.LabelSet, t time.Time, line string) error
	Stop()
}

var _ client = (*lokiclient.Client)(nil)

func newClient(cfg lokiclient.Config, log *slog.Logger) (client, error) {
	return lokiclient.NewWithLogger(cfg, kitLogger{log})
}

// send hands buffered lines to c until stop is closed, then hands the rest and stops c.
func (x *Exporter) send(c client, wake, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-wake:
			x.handAll(c)
		case <-stop:
			x.handAll(c) // Shutdown empties pending if its context ends first
			c.Stop()
			return
		}
	}
}

// handAll hands pending lines to c, oldest first, until none is pending. A line stays
// counted against the buffer until the client's counters show it sent or dropped; settle
// reads those counters once per settleEvery lines.
func (x *Exporter) handAll(c client) {
	for i := 0; ; i++ {
		x.mu.Lock()
		if i%settleEvery == 0 {
			x.settle()
		}
		if x.pending.len() == 0 { // also when Shutdown gave up and dropped them
			x.mu.Unlock()
			return
		}
		e := x.pending.pop()
		line := e.line
		e.line = ""
		x.handed.push(e)
		x.mu.Unlock()
		// The client keeps labels (read-only, shared by the stream's lines) and line.
		_ = c.Handle(e.st.labels, time.Unix(0, e.ts), line) // never fails
	}
}

// settleEvery is how many lines the sender hands over between reads of the client's counters.
const settleEvery = 64

// settle forgets the handed lines the client has sent or dropped since, and sets the
// export lag when it sent some. x.mu is held.
func (x *Exporter) settle() {
	sent, dropped := x.counts.sentDropped()
	resolved := sent + dropped - x.resolved
	if resolved <= 0 {
		return
	}
	now := time.Now()
	var oldest int64
	for i := 0; i < resolved && x.handed.len() > 0; i++ {
		e := x.handed.pop()
		if i == 0 {
			oldest = e.queued
		}
		x.lines--
		x.bytes -= e.size
	}
	if sent > x.sent {
		x.tel.setLag(now.Sub(time.Unix(0, oldest)).Seconds())
	}
	x.resolved, x.sent = sent+dropped, sent
}

// clientCounters reads the Loki client's own counters of what it sent and dropped for one
// host: the client counts them in package-level vectors it registers with the default
// registry, and registering an equal vector hands back the existing one. They are per
// host and per process, so one exporter per Loki host is accurate; counts start at the
// exporter's creation.
type clientCounters struct {
	sent, dropped, retries prometheus.Counter
	base                   [3]int
}

func newClientCounters(cfg Config) (*clientCounters, error) {
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/") + PushPath)
	if err != nil {
		return nil, fmt.Errorf("%w: URL %q: %w", ErrInvalidConfig, cfg.URL, err)
	}
	var vecs [3]*prometheus.CounterVec
	for i, c := range []struct{ name, help string }{
		{"sent_entries_total", "Number of log entries sent to the ingester."},
		{"dropped_entries_total", "Number of log entries dropped because failed to be sent to the ingester after all retries."},
		{"batch_retries_total", "Number of times batches has had to be retried."},
	} {
		if vecs[i], err = existingVec(c.name, c.help); err != nil {
			return nil, err
		}
	}
	cc := &clientCounters{
		sent:    vecs[0].WithLabelValues(u.Host),
		dropped: vecs[1].WithLabelValues(u.Host),
		retries: vecs[2].WithLabelValues(u.Host),
	}
	cc.base = [3]int{value(cc.sent), value(cc.dropped), value(cc.retries)}
	return cc, nil
}

// errClientMetrics says the Loki client's counters could not be found: a client version
// that renamed them. Every count of what Loki got would be wrong, so New fails.
var errClientMetrics = errors.New("loki: the Loki client's counters are not registered as expected")

func existingVec(name, help string) (*prometheus.CounterVec, error) {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "promtail", Name: name, Help: help},
		[]string{lokiclient.HostLabel})
	err := prometheus.DefaultRegisterer.Register(v)
	if err == nil {
		prometheus.DefaultRegisterer.Unregister(v)
		return nil, fmt.Errorf("%w: promtail_%s is missing", errClientMetrics, name)
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing, nil
		}
	}
	return nil, fmt.Errorf("%w: promtail_%s: %w", errClientMetrics, name, err)
}

// sentDropped returns the lines the client sent and dropped since the exporter's creation.
func (c *clientCounters) sentDropped() (sent, dropped int) {
	return value(c.sent) - c.base[0], value(c.dropped) - c.base[1]
}

func (c *clientCounters) retried() int { return value(c.retries) - c.base[2] }

func value(c prometheus.Counter) int {
	var m dto.Metric
	_ = c.Write(&m) // a counter's Write does not fail
	return int(m.GetCounter().GetValue())
}

// kitLogger is the go-kit logger the Loki client wants, writing to slog: warnings and
// errors (failed pushes) at Warn, the rest at Debug.
type kitLogger struct{ log *slog.Logger }

func (l kitLogger) Log(keyvals ...any) error {
	msg, lvl := "loki client", slog.LevelDebug
	attrs := make([]any, 0, len(keyvals))
	for i := 0; i+1 < len(keyvals); i += 2 {
		k := fmt.Sprint(keyvals[i])
		switch k {
		case "msg":
			msg = fmt.Sprint(keyvals[i+1])
		case "level":
			if s := fmt.Sprint(keyvals[i+1]); s == "warn" || s == "error" {
				lvl = slog.LevelWarn
			}
		default:
			attrs = append(attrs, k, keyvals[i+1])
		}
	}
	l.log.Log(context.Background(), lvl, msg, attrs...)
	return nil
}
