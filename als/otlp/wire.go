package otlp

import (
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"

	"github.com/edgetel/edgetel/internal/otlpgrpc"
)

// service is OTLP's LogsService served by the receiver (see otlpgrpc for why not through
// plogotlp.RegisterGRPCServer). Its requests are pooled batches that gRPC fills with the
// request's bytes, which export decodes itself. The bytes reach them through pdata's gRPC
// codec, which this package's use of plogotlp below installs.
func (r *Receiver) service() *otlpgrpc.Service[*batch] {
	return &otlpgrpc.Service[*batch]{
		Name:       "opentelemetry.proto.collector.logs.v1.LogsService",
		Metadata:   "opentelemetry/proto/collector/logs/v1/logs_service.proto",
		Message:    "ExportLogsServiceRequest",
		NewRequest: func() *batch { return r.batches.Get().(*batch) },
		Export:     r.export,
		Malformed:  r.tel.malformed.Inc,
	}
}

// Register adds the logs service to s. Call it before s serves.
func (r *Receiver) Register(s grpc.ServiceRegistrar) { r.service().Register(s) }

// partialSuccess tells the sender that rejected of its log records were not taken, and
// why. OTLP says a client must not retry them.
func partialSuccess(rejected int, why string) *otlpgrpc.Response {
	resp := plogotlp.NewExportResponse()
	ps := resp.PartialSuccess()
	ps.SetRejectedLogRecords(int64(rejected))
	ps.SetErrorMessage(why)
	return otlpgrpc.Encoded(resp.MarshalProto())
}
