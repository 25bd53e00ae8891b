package sim

import (
	"fmt"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"

	"github.com/edgetel/edgetel/model"
)

// Corpus is n requests of one node's traffic, encoded as the StreamAccessLogsMessages its
// stream would carry (16 KiB batches, the first with the identifier), and the truth about
// them. The sink's tests and benchmarks decode it without a network; a load generator
// sends its messages as they are.
type Corpus struct {
	// Messages are StreamAccessLogsMessage encodings (no gRPC framing).
	Messages [][]byte
	Entries  int
	Bytes    int
	Truth    Truth
}

// CorpusNode is the node the corpus's identifier names.
const CorpusNode = DefaultNodeCluster + "-0"

// NewCorpus generates n requests of w's traffic over edge with seed, batched as Envoy's
// buffered logger batches them, the flush interval running on the generator's clock.
func NewCorpus(edge *model.Edge, seed uint64, w Workload, n int) (*Corpus, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: a corpus of %d entries", ErrInvalidWorkload, n)
	}
	g, err := NewGenerator(edge, seed, w)
	if err != nil {
		return nil, err
	}
	rec := newRecorder(DefaultMaxSlowTraceIDs)
	c := &Corpus{}
	id := Identifier(CorpusNode, DefaultNodeCluster, LogName)
	var b batch
	emit := func() error {
		if len(b.entries) == 0 {
			return nil
		}
		msg, err := MarshalBatch(nil, id, b.entries)
		if err != nil {
			return err
		}
		id = nil
		c.Messages = append(c.Messages, msg)
		c.Bytes += len(msg)
		rec.sent(CorpusNode, b.outs)
		b.reset()
		return nil
	}
	flushDue := g.Now().Add(DefaultFlushInterval)
	for range n {
		e := new(accesslogv3.HTTPAccessLogEntry)
		r := g.Next(e)
		if !r.Start.Before(flushDue) { // Envoy's flush timer fired before r
			if err := emit(); err != nil {
				return nil, err
			}
			flushDue = nextFlush(flushDue, r.Start, DefaultFlushInterval)
		}
		if b.add(e, r); b.size >= DefaultBufferSize {
			if err := emit(); err != nil {
				return nil, err
			}
		}
	}
	if err := emit(); err != nil {
		return nil, err
	}
	c.Entries, c.Truth = n, rec.snapshot()
	return c, nil
}
