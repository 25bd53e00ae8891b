package otlp

import (
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"

	"github.com/edgetel/edgetel/internal/otlpgrpc"
)

// service is OTLP's LogsService served by the receiver (see otlpgrpc for why not through
// plogotlp.RegisterGRPCServer).
func (r *Receiver) service() *otlpgrpc.Service[plogotlp.ExportRequest] {
	return &otlpgrpc.Service[plogotlp.ExportRequest]{
		Name:       "opentelemetry.proto.collector.logs.v1.LogsService",
		Metadata:   "opentelemetry/proto/collector/logs/v1/logs_service.proto",
		Message:    "ExportLogsServiceRequest",
		NewRequest: plogotlp.NewExportRequest,
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
