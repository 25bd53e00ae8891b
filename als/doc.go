// Package als receives Envoy's access logs over the gRPC access-log service
// (envoy.service.accesslog.v3) and decodes each entry once, into a typed Record.
//
// # Decoding
//
// Decoder reads StreamAccessLogsMessage straight from the wire with protowire, into a
// caller's reusable Batch: byte fields are views of the message, nothing is allocated per
// entry, and only the fields an SLI, the join or an exporter use are read. It agrees with
// proto.Unmarshal on those fields (FuzzDecode checks it) and is about eight times faster;
// run the benchmarks with
//
//	GOMAXPROCS=1 go test -run x -bench . -benchmem ./als/
//
// BenchmarkDecode and BenchmarkProtoUnmarshal decode the same 16 KiB message of 30
// realistic entries, as Envoy flushes them; entries/cpu-s is the one-core rate on a
// machine shared with other work.
//
// # Getting the bytes from gRPC
//
// gRPC-Go gives a handler messages only through a codec. A codec chosen by content-subtype
// needs the client to ask for it, which Envoy does not (it sends application/grpc). So the
// receiver calls stream.RecvMsg with a message that works under either of two codecs:
//
//   - gRPC's default: message embeds a rawpb.Message, a proto.Message whose fast-path
//     Unmarshal (protoiface.Methods) keeps the bytes. The default codec calls
//     proto.Unmarshal, which calls that. The server and the generated registration stay as
//     they are; the cost is one copy of each message, since the codec frees its buffer
//     when Unmarshal returns (BenchmarkReceive measures it, against BenchmarkReceiveProto
//     for stream.Recv).
//   - rawpb.Codec, which the sink's server forces (grpc.ForceServerCodecV2; it hands every
//     other message to the default): message takes a reference to gRPC's receive buffers,
//     one per HTTP/2 frame, and Decoder.DecodeSegments decodes the entries where they lie,
//     copying only an entry that straddles two frames. The buffers go back to gRPC when
//     the batch is released, after the Consumer has seen it.
//
// # Hand-off
//
// Receiver decodes on each stream's goroutine and queues one batch per message for its
// delivery goroutines, which call the Consumer. The queue is bounded in batches and bytes;
// when it is full the batch is dropped and counted, so Envoy never waits on a consumer.
// Self-telemetry is exposed by registering the Receiver, a prometheus.Collector.
package als
