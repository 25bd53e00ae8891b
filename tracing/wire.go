package tracing

import (
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"

	"github.com/edgetel/edgetel/internal/otlpgrpc"
)

// service is OTLP's TraceService served by the receiver (see otlpgrpc for why not through
// ptraceotlp.RegisterGRPCServer).
func (r *Receiver) service() *otlpgrpc.Service[ptraceotlp.ExportRequest] {
	return &otlpgrpc.Service[ptraceotlp.ExportRequest]{
		Name:       "opentelemetry.proto.collector.trace.v1.TraceService",
		Metadata:   "opentelemetry/proto/collector/trace/v1/trace_service.proto",
		Message:    "ExportTraceServiceRequest",
		NewRequest: ptraceotlp.NewExportRequest,
		Export:     r.export,
		Malformed:  r.tel.malformed.Inc,
	}
}

// Register adds the trace service to s. Call it before s serves.
func (r *Receiver) Register(s grpc.ServiceRegistrar) { r.service().Register(s) }

// partialSuccess tells the sender that rejected of its spans were not taken, and why. OTLP
// says a client must not retry them.
func partialSuccess(rejected int, why string) *otlpgrpc.Response {
	resp := ptraceotlp.NewExportResponse()
	ps := resp.PartialSuccess()
	ps.SetRejectedSpans(int64(rejected))
	ps.SetErrorMessage(why)
	return otlpgrpc.Encoded(resp.MarshalProto())
}
