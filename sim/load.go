package sim

import (
	"fmt"
	"maps"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/edgetel/edgetel/model"
)

// LoadCorpus is a fixed corpus for a load generator (the simulator in load mode): the same
// batches pre-encoded both as StreamAccessLogsMessages (ALS) and as OTLP logs Export
// requests (Envoy's OpenTelemetry access logger), with the truth of each batch, so that a
// sender can cycle through them at full speed, in any order, on any number of streams, and
// still know exactly what it sent: the truth of a run is the sum, over the batches, of each
// batch's truth times the times it was sent (see Truth).
//
// The ALS encodings carry no identifier: a stream's first message is WithIdentifier of
// one of them, which is the same bytes behind the encoded identifier (protobuf merges
// concatenated encodings), so one corpus serves streams of any node.
type LoadCorpus struct {
	ALS     [][]byte
	OTLP    [][]byte
	Entries []int // entries of batch i
	truths  []Truth
}

// NewLoadCorpus generates n requests of w's traffic over edge with seed, batched as
// NewCorpus batches them. The OTLP requests name node CorpusNode.
func NewLoadCorpus(edge *model.Edge, seed uint64, w Workload, n int) (*LoadCorpus, error) {
	c, err := NewCorpus(edge, seed, w, n)
	if err != nil {
		return nil, err
	}
	// Generate the same requests again to keep each batch's truth: NewCorpus keeps one
	// truth for the whole corpus.
	g, err := NewGenerator(edge, seed, w)
	if err != nil {
		return nil, err
	}
	lc := &LoadCorpus{}
	for i, msg := range c.Messages {
		var m alsv3.StreamAccessLogsMessage
		if err := proto.Unmarshal(msg, &m); err != nil {
			return nil, fmt.Errorf("corpus message %d: %w", i, err)
		}
		entries := m.GetHttpLogs().GetLogEntry()
		rec := newRecorder(0)
		outs := make([]outcome, len(entries))
		for j := range entries {
			outs[j] = outcomeOf(g.Next(new(accesslogv3.HTTPAccessLogEntry)))
		}
		rec.sent(CorpusNode, outs)
		if err := lc.add(entries, rec.snapshot()); err != nil {
			return nil, err
		}
	}
	return lc, nil
}

// NewMarkers returns n single-entry batches of route's traffic alone, pre-encoded as a
// LoadCorpus: probes whose arrival a load generator can see on a route that the corpus
// leaves out (a Workload with the route's share at zero).
func NewMarkers(edge *model.Edge, seed uint64, route string, n int) (*LoadCorpus, error) {
	w := Workload{Rate: 1000, Profiles: map[string]Profile{}}
	for _, r := range edge.Routes {
		p := DefaultProfile(r)
		if r.Name != route {
			p.Share = 0
		}
		w.Profiles[r.Name] = p
	}
	if edge.Route(route) == nil {
		return nil, fmt.Errorf("%w: markers on route %q, which the model does not have", ErrInvalidWorkload, route)
	}
	g, err := NewGenerator(edge, seed, w)
	if err != nil {
		return nil, err
	}
	lc := &LoadCorpus{}
	for range n {
		e := new(accesslogv3.HTTPAccessLogEntry)
		rec := newRecorder(0)
		rec.sent(CorpusNode, []outcome{outcomeOf(g.Next(e))})
		if err := lc.add([]*accesslogv3.HTTPAccessLogEntry{e}, rec.snapshot()); err != nil {
			return nil, err
		}
	}
	return lc, nil
}

func (lc *LoadCorpus) add(entries []*accesslogv3.HTTPAccessLogEntry, t Truth) error {
	als, err := MarshalBatch(nil, nil, entries)
	if err != nil {
		return err
	}
	otlp, err := LogRequest(CorpusNode, DefaultNodeCluster, entries).MarshalProto()
	if err != nil {
		return err
	}
	lc.ALS = append(lc.ALS, als)
	lc.OTLP = append(lc.OTLP, otlp)
	lc.Entries = append(lc.Entries, len(entries))
	lc.truths = append(lc.truths, t)
	return nil
}

// WithIdentifier returns batch i's ALS encoding as the first message of node nodeID's
// stream: the identifier, then the entries.
func (lc *LoadCorpus) WithIdentifier(i int, nodeID string) ([]byte, error) {
	id, err := proto.Marshal(Identifier(nodeID, DefaultNodeCluster, LogName))
	if err != nil {
		return nil, err
	}
	// StreamAccessLogsMessage.identifier is field 1.
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, id)
	return append(b, lc.ALS[i]...), nil
}

// Truth is what sending batch i sent[i] times sent: the routes' counts (slow trace IDs
// are left out: a batch sent many times has no single most recent request) and the
// totals. It says nothing about nodes or streams.
func (lc *LoadCorpus) Truth(sent []uint64) Truth {
	t := Truth{Routes: map[string]RouteTruth{}}
	for i, k := range sent {
		if k == 0 {
			continue
		}
		t.Sent += k * uint64(lc.Entries[i])
		for name, rt := range lc.truths[i].Routes {
			t.Routes[name] = addRouteTruth(t.Routes[name], rt, k)
		}
	}
	t.Generated = t.Sent
	return t
}

// addRouteTruth returns dst plus k times src.
func addRouteTruth(dst, src RouteTruth, k uint64) RouteTruth {
	if dst.Codes == nil {
		dst.Codes, dst.Flags, dst.Latency = map[uint32]uint64{}, map[string]uint64{}, map[string]LatencyTruth{}
	}
	dst.Requests += k * src.Requests
	dst.Status5xx += k * src.Status5xx
	dst.Bad += k * src.Bad
	for c, v := range src.Codes {
		dst.Codes[c] += k * v
	}
	for f, v := range src.Flags {
		dst.Flags[f] += k * v
	}
	for name, lt := range src.Latency {
		d := dst.Latency[name]
		d.Threshold = lt.Threshold
		d.Good += k * lt.Good
		dst.Latency[name] = d
	}
	return dst
}

// MergeTruth returns the sum of a and b's routes and totals, as Truth builds them.
func MergeTruth(a, b Truth) Truth {
	t := Truth{Routes: maps.Clone(a.Routes), Sent: a.Sent + b.Sent, Generated: a.Generated + b.Generated}
	if t.Routes == nil {
		t.Routes = map[string]RouteTruth{}
	}
	for name, rt := range b.Routes {
		cur := t.Routes[name]
		if cur.Codes != nil { // a's maps are shared with a: copy before adding
			cur = addRouteTruth(RouteTruth{}, cur, 1)
		}
		t.Routes[name] = addRouteTruth(cur, rt, 1)
	}
	return t
}
