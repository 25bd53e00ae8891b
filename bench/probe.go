package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgetel/edgetel/sim"
)

// Probe measures the time from an entry's arrival to its effect on /metrics while a load
// runs: it sends one marker entry at a time, on a route the load leaves out, on a
// connection of its own, and polls the exposition until the route's count has grown by
// one. The time includes the send and up to one poll period, so it is an upper bound on
// arrival to effect.
type Probe struct {
	Target, MetricsURL string
	Protocol           string
	Schema             Schema
	Route              string // the markers' route
	Markers            *sim.LoadCorpus
	Every              time.Duration // between one marker's effect and the next send
	Timeout            time.Duration // a marker not seen by then is counted lost
}

// ProbeResult is what the probe saw. Sent[i] counts marker i as the target accepted it.
type ProbeResult struct {
	Sent      []uint64
	Latencies []time.Duration
	Lost      int
	Err       error
}

// Quantile returns the q-quantile of the latencies (nearest rank), 0 with none.
func (r ProbeResult) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Run sends markers until ctx is done, at most one per marker in the corpus.
func (p Probe) Run(ctx context.Context) ProbeResult {
	res := ProbeResult{Sent: make([]uint64, len(p.Markers.ALS))}
	conn, err := grpc.NewClient(p.Target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	if err != nil {
		res.Err = err
		return res
	}
	defer conn.Close()
	var stream grpc.ClientStream
	if p.Protocol != OTLP {
		if stream, err = conn.NewStream(context.WithoutCancel(ctx), &grpc.StreamDesc{ClientStreams: true}, alsMethod); err != nil {
			res.Err = err
			return res
		}
		defer func() {
			var reply []byte
			if err := stream.CloseSend(); err == nil {
				_ = stream.RecvMsg(&reply)
			}
		}()
	}
	base, err := p.count(ctx)
	if err != nil {
		res.Err = err
		return res
	}
	for i := 0; i < len(p.Markers.ALS) && ctx.Err() == nil; i++ {
		t0 := time.Now()
		if err := p.send(ctx, conn, stream, i); err != nil {
			res.Err = err
			return res
		}
		res.Sent[i]++
		base++
		if ok := p.await(ctx, base); ok {
			res.Latencies = append(res.Latencies, time.Since(t0))
		} else if ctx.Err() == nil {
			res.Lost++
			if base, err = p.count(ctx); err != nil { // start again from what it shows
				res.Err = err
				return res
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(p.Every):
		}
	}
	return res
}

func (p Probe) send(ctx context.Context, conn *grpc.ClientConn, stream grpc.ClientStream, i int) error {
	if p.Protocol == OTLP {
		rejected, err := exportOTLP(context.WithoutCancel(ctx), conn, p.Markers.OTLP[i])
		if err == nil && rejected > 0 {
			err = fmt.Errorf("marker %d refused", i)
		}
		return err
	}
	msg := p.Markers.ALS[i]
	if i == 0 {
		var err error
		if msg, err = p.Markers.WithIdentifier(0, "edge-probe"); err != nil {
			return err
		}
	}
	return stream.SendMsg(&msg)
}

// pollEvery is the probe's resolution. Each scrape costs the target CPU (~3.5 ms for
// edgetel's 50 KB exposition), taken from the load it measures: with markers every 500 ms
// and ~20 ms to the effect, polling costs the target ~3% of its core.
const pollEvery = 5 * time.Millisecond

// await polls until the marker route's count reaches want; false after Timeout. Polling
// goes on after ctx is done, so that the marker in flight when the load ends is seen.
func (p Probe) await(ctx context.Context, want uint64) bool {
	deadline := time.Now().Add(p.Timeout)
	for time.Now().Before(deadline) {
		if n, err := p.count(context.WithoutCancel(ctx)); err == nil && n >= want {
			return true
		}
		time.Sleep(pollEvery)
	}
	return false
}

func (p Probe) count(ctx context.Context) (uint64, error) {
	c, err := Scrape(ctx, p.MetricsURL, p.Schema)
	if err != nil {
		return 0, err
	}
	return c.Routes[p.Route].Requests, nil
}
