package sim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
)

// Errors of a Fleet.
var (
	// ErrRunning: the fleet is already sending (Start, or SendN under way).
	ErrRunning = errors.New("the simulated fleet is already running")
	// ErrLost: some entries were dropped or sent on a stream that broke; Truth says how many.
	ErrLost = errors.New("access-log entries lost")
)

// Fleet is a fleet of simulated Envoy nodes. Its methods are safe for concurrent use.
type Fleet struct {
	cfg Config
	rec *recorder

	mu    sync.Mutex
	gens  []*Generator // one per node, made at the first run, kept across runs
	stats []*NodeStats // beside gens: a node's counters outlive a run, as Envoy's do
	busy  bool         // Start or SendN is under way
	run   *run         // the run Start began
}

// run is one period of sending: the nodes' connections, streams and goroutines.
type run struct {
	nodes []*node
	conns []*grpc.ClientConn
	abort context.CancelFunc // aborts every stream
	stop  chan struct{}      // closed to stop generating
	done  chan struct{}      // closed once every node has finished
}

// New returns a fleet; it sends nothing until Start or SendN.
func New(cfg Config) (*Fleet, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Fleet{cfg: cfg, rec: newRecorder(cfg.MaxSlowTraceIDs)}, nil
}

// Truth returns a deep copy of the ground truth so far.
func (f *Fleet) Truth() Truth { return f.rec.snapshot() }

// Start starts sending in the background, paced by Config.Clock, and returns at once.
// Background work does not use ctx, which only bounds Start itself. After Shutdown, Start
// resumes the same traffic where it stopped.
func (f *Fleet) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy {
		return ErrRunning
	}
	now := time.Now()
	gens, err := f.generators(now)
	if err != nil {
		return err
	}
	if f.cfg.Clock == RealTime {
		for _, g := range gens {
			g.AdvanceTo(now) // start times are wall-clock times, even after a pause
		}
	}
	r, err := f.newRun(context.Background(), gens)
	if err != nil {
		return err
	}
	r.start(func(n *node) {
		if f.cfg.Clock == RealTime {
			n.runRealTime(r.stop)
		} else {
			n.runVirtual(r.stop, -1)
		}
	})
	f.busy, f.run = true, r
	return nil
}

// Shutdown stops sending, flushes every buffer and closes every stream cleanly, so that
// nothing generated is lost when the sink is up. If ctx ends first, the streams are aborted
// and what they still held is counted as lost or unconfirmed. Shutdown is safe to call
// twice and without Start; it does not stop a SendN, which ends with its context.
func (f *Fleet) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	r := f.run
	f.run = nil
	f.mu.Unlock()
	if r == nil {
		return nil
	}
	defer f.release()
	return r.finish(ctx)
}

// SendN sends exactly n entries across the nodes, as fast as the streams take them, on the
// virtual clock, batched as in every mode; it returns once every stream is closed, so the
// sink has read everything. It returns an error wrapping ErrLost if any entry was dropped
// or is unconfirmed; lost stats flushes and spans are in the Truth only. SendN resumes
// where the previous run stopped, and flushes the nodes' spans and stats before it returns.
func (f *Fleet) SendN(ctx context.Context, n int) error {
	if n < 0 {
		return fmt.Errorf("%w: SendN(%d)", ErrInvalidConfig, n)
	}
	gens, err := f.acquire()
	if err != nil {
		return err
	}
	defer f.release()
	r, err := f.newRun(ctx, gens)
	if err != nil {
		return err
	}
	r.start(func(nd *node) {
		quota := n / len(r.nodes)
		if nd.index < n%len(r.nodes) {
			quota++
		}
		nd.runVirtual(ctx.Done(), quota)
	})
	r.finish(context.Background()) // ctx already bounds the streams
	if err := ctx.Err(); err != nil {
		return err
	}
	var lost, unconfirmed uint64
	for _, nd := range r.nodes {
		lost, unconfirmed = lost+nd.lost, unconfirmed+nd.unconfirmed
	}
	if lost+unconfirmed > 0 {
		return fmt.Errorf("%w: %d dropped and %d unconfirmed of %d (see Truth().Nodes for the last error)",
			ErrLost, lost, unconfirmed, n)
	}
	return nil
}

// acquire marks the fleet busy for SendN, making the generators on the first run.
func (f *Fleet) acquire() ([]*Generator, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy {
		return nil, ErrRunning
	}
	gens, err := f.generators(time.Now())
	f.busy = err == nil
	return gens, err
}

func (f *Fleet) release() {
	f.mu.Lock()
	f.busy = false
	f.mu.Unlock()
}

// generators makes the nodes' generators on the first run; the epoch is Config.Epoch, or
// now. Called with f.mu held.
func (f *Fleet) generators(now time.Time) ([]*Generator, error) {
	if f.gens != nil {
		return f.gens, nil
	}
	w := f.cfg.nodeWorkload()
	if w.Epoch.IsZero() {
		w.Epoch = now
	}
	gens := make([]*Generator, f.cfg.Nodes)
	for i := range gens {
		g, err := NewGenerator(f.cfg.Edge, nodeSeed(f.cfg.Seed, i), w)
		if err != nil {
			return nil, err
		}
		g.localIP = nodeIP(i)
		gens[i] = g
		f.stats = append(f.stats, NewNodeStats())
	}
	f.gens = gens
	return gens, nil
}

// newRun dials one connection per node, as each Envoy has its own; streams derive from
// parent. grpc.NewClient connects lazily, so this does not wait for the sink.
func (f *Fleet) newRun(parent context.Context, gens []*Generator) (*run, error) {
	ctx, abort := context.WithCancel(parent)
	r := &run{abort: abort, stop: make(chan struct{}), done: make(chan struct{})}
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// gRPC's own reconnect backoff grows to 2 minutes by default: a sink that restarts
		// would be back long before the fleet noticed.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: f.cfg.ReconnectBackoff,
			Multiplier: 1.6, Jitter: 0.2, MaxDelay: maxReconnectBackoff}, MinConnectTimeout: 5 * time.Second}),
	}, f.cfg.DialOptions...)
	for i, g := range gens {
		conn, err := grpc.NewClient(f.cfg.Address, opts...)
		if err != nil {
			r.closeConns()
			abort()
			return nil, fmt.Errorf("%w: dialing %s: %w", ErrInvalidConfig, f.cfg.Address, err)
		}
		r.conns = append(r.conns, conn)
		r.nodes = append(r.nodes, f.newNode(ctx, i, g, conn))
	}
	return r, nil
}

// newNode makes node i for a run, on its connection conn; ctx is the parent of its calls.
func (f *Fleet) newNode(ctx context.Context, i int, g *Generator, conn *grpc.ClientConn) *node {
	id := f.cfg.nodeID(i)
	n := &node{index: i, id: id, ident: Identifier(id, f.cfg.NodeCluster, LogName), gen: g,
		cfg: &f.cfg, rec: f.rec, client: alsv3.NewAccessLogServiceClient(conn), ctx: ctx, conn: conn}
	if f.cfg.AccessLogProtocol == OTLPProtocol {
		n.logs = plogotlp.NewGRPCClient(conn)
	}
	if f.cfg.Stats {
		n.stats, n.statsIdent = f.stats[i], StatsIdentifier(id, f.cfg.NodeCluster)
	}
	if f.cfg.Spans {
		n.spans = NewSpanBuffer(id, DefaultMinFlushSpans, DefaultSpanFlushInterval)
		n.traces = ptraceotlp.NewGRPCClient(conn)
	}
	return n
}

// start runs body on each node in its own goroutine, then finishes the node (flush, clean
// close); done is closed when all have.
func (r *run) start(body func(*node)) {
	var wg sync.WaitGroup
	for _, n := range r.nodes {
		wg.Go(func() {
			body(n)
			n.finish()
		})
	}
	go func() {
		wg.Wait()
		close(r.done)
	}()
}

// finish stops the run and waits for the nodes to flush and close, aborting their streams
// if ctx ends first.
func (r *run) finish(ctx context.Context) error {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	var err error
	select {
	case <-r.done:
	case <-ctx.Done():
		r.abort()
		<-r.done
		err = ctx.Err()
	}
	r.abort()
	r.closeConns()
	return err
}

func (r *run) closeConns() {
	for _, c := range r.conns {
		c.Close()
	}
}

// nodeSeed derives node i's seed from the fleet's (splitmix64), so that nodes' sequences
// are unrelated yet fixed by the one seed.
func nodeSeed(seed uint64, i int) uint64 {
	z := seed + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// nodeIP is node i's address, the local address of its listener in the entries.
func nodeIP(i int) string {
	return "10.0." + strconv.Itoa(i/240) + "." + strconv.Itoa(10+i%240)
}
