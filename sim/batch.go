package sim

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/protobuf/proto"
)

// Identifier is what the first message of an Envoy node's access-log stream carries: the
// node (its ID and cluster, the user agent Envoy reports) and the logger's log_name.
func Identifier(nodeID, nodeCluster, logName string) *alsv3.StreamAccessLogsMessage_Identifier {
	return &alsv3.StreamAccessLogsMessage_Identifier{
		Node:    &corev3.Node{Id: nodeID, Cluster: nodeCluster, UserAgentName: "envoy"},
		LogName: logName,
	}
}

// Message wraps a batch of HTTP entries in a StreamAccessLogsMessage; id is nil for every
// message but a stream's first. The message refers to entries, it does not copy them.
func Message(id *alsv3.StreamAccessLogsMessage_Identifier, entries []*accesslogv3.HTTPAccessLogEntry) *alsv3.StreamAccessLogsMessage {
	return &alsv3.StreamAccessLogsMessage{
		Identifier: id,
		LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{
			HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{LogEntry: entries},
		},
	}
}

// MarshalBatch appends the wire encoding of Message(id, entries) to dst: the bytes a gRPC
// client sends for one message of the stream (without gRPC's 5-byte frame header). The
// encoding is deterministic (map entries sorted), so a corpus is the same bytes each time.
func MarshalBatch(dst []byte, id *alsv3.StreamAccessLogsMessage_Identifier, entries []*accesslogv3.HTTPAccessLogEntry) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.MarshalAppend(dst, Message(id, entries))
}

// batch is a node's buffer: entries waiting for a flush, the truth about each, and their
// size as Envoy approximates it (the sum of the entries' encoded sizes).
type batch struct {
	entries []*accesslogv3.HTTPAccessLogEntry
	outs    []outcome
	size    int
}

func (b *batch) add(e *accesslogv3.HTTPAccessLogEntry, r *Request) {
	b.entries = append(b.entries, e)
	b.outs = append(b.outs, outcomeOf(r))
	b.size += proto.Size(e)
}

// reset empties the batch. The entry slice is new, not truncated: the message last handed
// to gRPC still refers to the old one, and gRPC asks that a sent message not be modified.
func (b *batch) reset() {
	b.entries = make([]*accesslogv3.HTTPAccessLogEntry, 0, cap(b.entries))
	b.outs = b.outs[:0]
	b.size = 0
}
