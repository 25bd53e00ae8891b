// Package bench drives edgetel's sink and a peer pipeline (an OpenTelemetry Collector) with
// the same traffic, side by side, each in its own process pinned to one core, and measures
// what each does with it: entries/s, CPU per entry, peak RSS, the time from an entry's
// arrival to its effect on /metrics, drops, and whether the counts on /metrics are exactly
// the generator's truth. `make bench-compare` and `make soak` run it through
// bench/cmd/edgetel-bench.
package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	"github.com/edgetel/edgetel/sim"
)

// Protocols the load generator speaks: Envoy's access-log service, or OTLP logs as Envoy's
// OpenTelemetry access logger sends them.
const (
	ALS  = sim.ALSProtocol
	OTLP = sim.OTLPProtocol
)

const (
	alsMethod  = "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs"
	otlpMethod = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
)

// ErrUnbounded is returned for a load with no time or no count bound.
var ErrUnbounded = errors.New("bench: a load needs a duration and a maximum entry count")

// LoadConfig is one run of the load generator: the simulator in load mode.
type LoadConfig struct {
	Target   string // gRPC address
	Protocol string // ALS or OTLP
	Streams  int    // concurrent streams (ALS) or Export loops (OTLP), one connection each
	// Rate is entries per second across the streams; 0 sends as fast as the target takes.
	Rate float64
	// Duration and MaxEntries bound the run: it stops at whichever comes first.
	Duration   time.Duration
	MaxEntries uint64
}

// LoadResult is what a load sent, exactly.
type LoadResult struct {
	// Sent[i] counts the times batch i of the corpus was accepted: by gRPC's Send on an
	// ALS stream that then closed cleanly, or by an Export that succeeded.
	Sent    []uint64
	Entries uint64
	// Failed counts entries of sends that failed (dropped, as Envoy drops them); Rejected
	// entries the target refused in an OTLP partial success (which ones is not said).
	Failed, Rejected uint64
	Elapsed          time.Duration
	Errors           []string
}

// Exact reports whether Sent is what the target took: nothing failed or was refused.
func (r LoadResult) Exact() bool { return r.Failed == 0 && r.Rejected == 0 && len(r.Errors) == 0 }

// rawCodec sends pre-encoded messages as they are and keeps replies as bytes. Its name is
// proto's: the target sees an ordinary application/grpc request.
type rawCodec struct{}

var _ encoding.CodecV2 = rawCodec{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// RunLoad sends c's batches to cfg.Target until cfg's bounds, each stream cycling through
// the corpus from its own offset.
func RunLoad(ctx context.Context, cfg LoadConfig, c *sim.LoadCorpus) (LoadResult, error) {
	if cfg.Duration <= 0 || cfg.MaxEntries == 0 {
		return LoadResult{}, ErrUnbounded
	}
	if cfg.Streams <= 0 {
		cfg.Streams = 1
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	perStream := cfg.MaxEntries / uint64(cfg.Streams)
	results := make([]streamResult, cfg.Streams)
	start := time.Now()
	var wg sync.WaitGroup
	for k := range cfg.Streams {
		s := &sender{cfg: cfg, corpus: c, node: "edge-load-" + strconv.Itoa(k),
			offset: k * len(c.ALS) / cfg.Streams, max: perStream, start: start,
			rate: cfg.Rate / float64(cfg.Streams)}
		wg.Go(func() { results[k] = s.run(ctx) })
	}
	wg.Wait()
	out := LoadResult{Sent: make([]uint64, len(c.ALS)), Elapsed: time.Since(start)}
	for _, r := range results {
		for i, k := range r.sent {
			out.Sent[i] += k
			out.Entries += k * uint64(c.Entries[i])
		}
		out.Failed += r.failed
		out.Rejected += r.rejected
		if r.err != nil {
			out.Errors = append(out.Errors, r.err.Error())
		}
	}
	return out, nil
}

// sender is one stream of a load: one connection, as one Envoy node has.
type sender struct {
	cfg    LoadConfig
	corpus *sim.LoadCorpus
	node   string
	offset int
	max    uint64
	start  time.Time
	rate   float64 // entries/s of this stream; 0: flat out
}

type streamResult struct {
	sent             []uint64
	failed, rejected uint64
	err              error
}

func (s *sender) run(ctx context.Context) streamResult {
	res := streamResult{sent: make([]uint64, len(s.corpus.ALS))}
	conn, err := grpc.NewClient(s.cfg.Target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		res.err = err
		return res
	}
	defer conn.Close()
	if s.cfg.Protocol == OTLP {
		s.runOTLP(ctx, conn, &res)
	} else {
		s.runALS(ctx, conn, &res)
	}
	return res
}

// pace waits until the stream's rate allows entries more; false when ctx is done.
func (s *sender) pace(ctx context.Context, entries uint64) bool {
	if s.rate <= 0 {
		return ctx.Err() == nil
	}
	due := s.start.Add(time.Duration(float64(entries) / s.rate * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return ctx.Err() == nil
}

// runALS sends on one stream; what it sent counts once the stream closed cleanly (the
// server read everything sent on it), else as failed.
func (s *sender) runALS(ctx context.Context, conn *grpc.ClientConn, res *streamResult) {
	// The stream outlives ctx's deadline: it must be closed cleanly to confirm.
	cs, err := conn.NewStream(context.WithoutCancel(ctx), &grpc.StreamDesc{ClientStreams: true}, alsMethod)
	if err != nil {
		res.err = err
		return
	}
	var entries uint64
	n := len(s.corpus.ALS)
	for j := 0; entries < s.max && s.pace(ctx, entries); j++ {
		i := (s.offset + j) % n
		msg := s.corpus.ALS[i]
		if j == 0 {
			if msg, err = s.corpus.WithIdentifier(i, s.node); err != nil {
				res.err = err
				break
			}
		}
		if err := cs.SendMsg(&msg); err != nil {
			res.err = fmt.Errorf("ALS stream of %s: %w", s.node, err)
			break
		}
		res.sent[i]++
		entries += uint64(s.corpus.Entries[i])
	}
	closeErr := cs.CloseSend()
	var reply []byte
	if closeErr == nil {
		closeErr = cs.RecvMsg(&reply)
	}
	if res.err == nil && closeErr != nil {
		res.err = fmt.Errorf("closing the ALS stream of %s: %w", s.node, closeErr)
	}
	if res.err != nil { // unconfirmed: the server may or may not have read it
		for i, k := range res.sent {
			res.failed += k * uint64(s.corpus.Entries[i])
			res.sent[i] = 0
		}
	}
}

// runOTLP sends one Export at a time, as a node's OpenTelemetry access logger does per
// flush; a failed Export is dropped, never retried.
func (s *sender) runOTLP(ctx context.Context, conn *grpc.ClientConn, res *streamResult) {
	var entries uint64
	n := len(s.corpus.OTLP)
	for j := 0; entries < s.max && s.pace(ctx, entries); j++ {
		i := (s.offset + j) % n
		rejected, err := exportOTLP(context.WithoutCancel(ctx), conn, s.corpus.OTLP[i])
		k := uint64(s.corpus.Entries[i])
		entries += k
		switch {
		case err != nil:
			res.failed += k
			res.err = fmt.Errorf("OTLP Export from %s: %w", s.node, err)
		case rejected > 0:
			res.rejected += uint64(rejected)
		default:
			res.sent[i]++
		}
	}
}

// exportOTLP sends one pre-encoded Export request and returns how many records the
// target refused in a partial success.
func exportOTLP(ctx context.Context, conn *grpc.ClientConn, req []byte) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var reply []byte
	if err := conn.Invoke(ctx, otlpMethod, &req, &reply); err != nil {
		return 0, err
	}
	resp := plogotlp.NewExportResponse()
	if err := resp.UnmarshalProto(reply); err != nil {
		return 0, err
	}
	return resp.PartialSuccess().RejectedLogRecords(), nil
}
