// Package otlpgrpc serves an OTLP export service (traces, logs) on a gRPC server with a
// request type that pdata's gRPC codec fills and a handler of edgetel's own.
//
// It registers the service itself rather than through ptraceotlp.RegisterGRPCServer (or
// plogotlp's), for one reason: there, a request that does not decode is refused by gRPC
// before any code of ours runs, so it could not be counted. Here the handler calls the
// decoder itself, counts a failure and answers InvalidArgument, which OTLP says a client must
// not retry. The request is pdata's export request, decoded by pdata (traces), or a
// receiver's own type that keeps the bytes for its Export to decode (logs, in als/otlp),
// which then answers InvalidArgument itself.
//
// How the bytes reach pdata: importing ptraceotlp or plogotlp installs pdata's gRPC codec
// for "proto" (it wraps gRPC's own and passes every other message type through to it, so the
// access-log service on the same server is unaffected). That codec decodes any message with
// pdata's UnmarshalProto method; wireRequest has one, which hands the bytes to the
// request's UnmarshalProto. The receivers' gRPC tests, which send with pdata's own clients,
// would fail if that codec changed.
//
// On the sink's server, rawpb.Codec is the codec: it calls wireRequest.ReadWire, which
// lets a request that keeps its bytes copy them once from gRPC's receive buffers, and
// gathers them for any other request as pdata's codec would.
package otlpgrpc

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/edgetel/edgetel/internal/rawpb"
)

// Request is what a request decodes into: a pdata export request (ptraceotlp.ExportRequest),
// or a type that keeps the bytes. Its UnmarshalProto must copy what it keeps: the codec
// reuses the buffer once it returns.
type Request interface {
	UnmarshalProto(b []byte) error
	MarshalProto() ([]byte, error)
}

// Service describes one OTLP export service and who handles it.
type Service[R Request] struct {
	// Name is the gRPC service, e.g. opentelemetry.proto.collector.trace.v1.TraceService;
	// Metadata its .proto file; Message the request message's name, for errors.
	Name, Metadata, Message string
	// NewRequest returns an empty request to decode into.
	NewRequest func() R
	// Export handles a decoded request of wireBytes bytes.
	Export func(ctx context.Context, req R, wireBytes int) (*Response, error)
	// Malformed is called for each request that did not decode.
	Malformed func()
}

// Register registers the service on s.
func (sv *Service[R]) Register(s grpc.ServiceRegistrar) {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: sv.Name,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: sv.handle}},
		Metadata:    sv.Metadata,
	}, sv)
}

// handle is grpc.MethodDesc.Handler for Export: as generated code does it, with a request
// that does not decode counted and answered InvalidArgument. gRPC-Go writes its own status
// (Internal) as soon as dec fails, so wireRequest keeps pdata's decode error for the handler
// instead of returning it. dec still fails, and gRPC answers for it, when gRPC could not
// read the message (too large, bad compression); that is counted too.
func (sv *Service[R]) handle(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := &wireRequest[R]{req: sv.NewRequest()}
	err := dec(in)
	if err == nil {
		err = in.err
	}
	if err != nil {
		sv.Malformed()
		return nil, status.Errorf(codes.InvalidArgument, "malformed %s: %v", sv.Message, err)
	}
	if interceptor == nil {
		return sv.Export(ctx, in.req, in.size)
	}
	info := &grpc.UnaryServerInfo{Server: sv, FullMethod: "/" + sv.Name + "/Export"}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		w := req.(*wireRequest[R])
		return sv.Export(ctx, w.req, w.size)
	})
}

// wireRequest is an export request as pdata's gRPC codec decodes it.
type wireRequest[R Request] struct {
	req  R
	size int   // bytes on the wire
	err  error // pdata's decode error, for the handler to answer (see handle)
}

// UnmarshalProto is called by pdata's codec with the request's bytes, which it reuses
// afterwards: pdata copies what it keeps.
func (w *wireRequest[R]) UnmarshalProto(b []byte) error {
	w.size = len(b)
	w.err = w.req.UnmarshalProto(b)
	return nil
}

// ReadWire is called by rawpb.Codec, the sink's: a request that keeps its bytes (als/otlp's
// batch) reads them from gRPC's receive buffers itself; any other (pdata's) gets them
// gathered into one buffer, as pdata's codec gives them.
func (w *wireRequest[R]) ReadWire(data mem.BufferSlice) error {
	w.size = data.Len()
	if r, ok := any(w.req).(rawpb.WireReader); ok {
		w.err = r.ReadWire(data)
		return nil
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	w.err = w.req.UnmarshalProto(buf.ReadOnlyData())
	return nil
}

// SizeProto and MarshalProto complete the codec's interface; a server never encodes a
// request, but an interceptor that logs sizes might.
func (w *wireRequest[R]) SizeProto() int {
	b, _ := w.req.MarshalProto()
	return len(b)
}

func (w *wireRequest[R]) MarshalProto(buf []byte) int {
	b, _ := w.req.MarshalProto()
	return copy(buf, b)
}

// Response is an encoded export response. The zero value is the empty response: everything
// accepted.
type Response struct {
	buf []byte
}

// Accepted is the response to a request whose every item was taken.
var Accepted = &Response{}

// Encoded returns a response of the given encoding (a partial success), or Accepted when
// the encoding failed, which a response of two scalar fields never does.
func Encoded(b []byte, err error) *Response {
	if err != nil {
		return Accepted
	}
	return &Response{buf: b}
}

func (w *Response) SizeProto() int                { return len(w.buf) }
func (w *Response) MarshalProto(buf []byte) int   { return copy(buf, w.buf) }
func (w *Response) UnmarshalProto(b []byte) error { w.buf = append(w.buf[:0], b...); return nil }
