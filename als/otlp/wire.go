package otlp

import (
	"context"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The receiver registers OTLP's LogsService with its own handler rather than through
// plogotlp.RegisterGRPCServer, for one reason: there, a request that does not decode is
// refused by gRPC before any code of ours runs, so it could not be counted. Here the
// handler calls the decoder itself, counts a failure and answers InvalidArgument, which
// OTLP says a client must not retry. The messages are still pdata's, decoded by pdata.
//
// How the bytes reach pdata: importing plogotlp installs pdata's gRPC codec for "proto"
// (it wraps gRPC's own and passes every other message type through to it, so the
// access-log service on the same server is unaffected). That codec decodes any message
// with pdata's UnmarshalProto method; wireRequest has one, which hands the bytes to
// plogotlp.ExportRequest.UnmarshalProto. The receiver's gRPC tests, which send with
// plogotlp's own client, would fail if that codec changed.

const (
	serviceName = "opentelemetry.proto.collector.logs.v1.LogsService"
	exportPath  = "/" + serviceName + "/Export"
)

// logsService is the handler type of serviceDesc.
type logsService interface {
	export(ctx context.Context, req plogotlp.ExportRequest, wireBytes int) (*wireResponse, error)
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*logsService)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: exportHandler}},
	Metadata:    "opentelemetry/proto/collector/logs/v1/logs_service.proto",
}

// errMalformed answers a request that did not decode.
func errMalformed(err error) error {
	return status.Errorf(codes.InvalidArgument, "malformed ExportLogsServiceRequest: %v", err)
}

// exportHandler is grpc.MethodDesc.Handler for Export: as generated code does it, with a
// request that does not decode counted and answered InvalidArgument. gRPC-Go writes its own
// status (Internal) as soon as dec fails, so wireRequest keeps pdata's decode error for the
// handler instead of returning it. dec still fails, and gRPC answers for it, when gRPC
// could not read the message (too large, bad compression); that is counted too.
func exportHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	r := srv.(*Receiver)
	in := &wireRequest{req: plogotlp.NewExportRequest()}
	err := dec(in)
	if err == nil {
		err = in.err
	}
	if err != nil {
		r.tel.malformed.Inc()
		return nil, errMalformed(err)
	}
	if interceptor == nil {
		return r.export(ctx, in.req, in.size)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: exportPath}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		w := req.(*wireRequest)
		return r.export(ctx, w.req, w.size)
	})
}

// wireRequest is an ExportLogsServiceRequest as pdata's gRPC codec decodes it.
type wireRequest struct {
	req  plogotlp.ExportRequest
	size int   // bytes on the wire
	err  error // pdata's decode error, for the handler to answer (see exportHandler)
}

// UnmarshalProto is called by pdata's codec with the request's bytes, which it reuses
// afterwards: pdata copies what it keeps.
func (w *wireRequest) UnmarshalProto(b []byte) error {
	w.size = len(b)
	w.err = w.req.UnmarshalProto(b)
	return nil
}

// SizeProto and MarshalProto complete the codec's interface; a server never encodes a
// request, but an interceptor that logs sizes might.
func (w *wireRequest) SizeProto() int {
	b, _ := w.req.MarshalProto()
	return len(b)
}

func (w *wireRequest) MarshalProto(buf []byte) int {
	b, _ := w.req.MarshalProto()
	return copy(buf, b)
}

// wireResponse is an encoded ExportLogsServiceResponse. The zero value is the empty
// response: everything accepted.
type wireResponse struct {
	buf []byte
}

func (w *wireResponse) SizeProto() int                { return len(w.buf) }
func (w *wireResponse) MarshalProto(buf []byte) int   { return copy(buf, w.buf) }
func (w *wireResponse) UnmarshalProto(b []byte) error { w.buf = append(w.buf[:0], b...); return nil }

// accepted is the response to a request whose every log record was taken.
var accepted = &wireResponse{}

// partialSuccess tells the sender that rejected of its log records were not taken, and why. OTLP
// says a client must not retry them.
func partialSuccess(rejected int, why string) *wireResponse {
	resp := plogotlp.NewExportResponse()
	ps := resp.PartialSuccess()
	ps.SetRejectedLogRecords(int64(rejected))
	ps.SetErrorMessage(why)
	b, err := resp.MarshalProto()
	if err != nil { // a response of two scalar fields always encodes
		return accepted
	}
	return &wireResponse{buf: b}
}
