package xds

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	otelalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/open_telemetry/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	uuidv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/request_id/uuid/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	otlpcommonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/edgetel/edgetel/als/logformat"
	"github.com/edgetel/edgetel/model"
)

// The telemetry half of the contract (DESIGN.md, "Telemetry contracts"): Envoy makes a UUID
// request ID that carries the trace decision, logs every request over the gRPC access-log
// service with traceparent among its headers, and sends spans over OTLP, all to the sink.

// sinkService is the gRPC service of the sink, reached through Envoy's own gRPC client so
// that the cluster's endpoints (per-node pinning) decide where the streams go.
func sinkService() *corev3.GrpcService {
	return &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
		EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: SinkCluster},
	}}
}

func requestIDExtension() *hcmv3.RequestIDExtension {
	return &hcmv3.RequestIDExtension{TypedConfig: mustAny(&uuidv3.UuidRequestIdConfig{
		PackTraceReason: wrapperspb.Bool(true),
	})}
}

// accessLog is the access logger a.Protocol names, sending to the sink. Both loggers
// batch alike (buffer size, flush interval) and carry what the SLIs need.
func accessLog(a model.AccessLog) *accesslogv3.AccessLog {
	if a.Protocol == model.AccessLogOTLP {
		return &accesslogv3.AccessLog{
			Name:       otelAccessLogName,
			ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: mustAny(otelAccessLog(a))},
		}
	}
	cfg := &grpcalsv3.HttpGrpcAccessLogConfig{
		CommonConfig: &grpcalsv3.CommonGrpcAccessLogConfig{
			LogName:             AccessLogName,
			GrpcService:         sinkService(),
			TransportApiVersion: corev3.ApiVersion_V3,
			BufferSizeBytes:     wrapperspb.UInt32(a.BufferSize),
			BufferFlushInterval: durationpb.New(a.FlushInterval),
		},
		AdditionalRequestHeadersToLog: a.RequestHeaders,
	}
	return &accesslogv3.AccessLog{
		Name:       grpcAccessLogName,
		ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: mustAny(cfg)},
	}
}

// otelAccessLog is Envoy's OpenTelemetry access logger with edgetel's format
// (als/logformat): the sink reads its attributes into the same records as ALS entries.
// Further request headers become request_header.<name> attributes; traceparent is in the
// format already. The resource carries Envoy's built-in node labels (node_name,
// cluster_name: the node group).
func otelAccessLog(a model.AccessLog) *otelalsv3.OpenTelemetryAccessLogConfig {
	attrs := make([]*otlpcommonv1.KeyValue, 0, len(logformat.Attributes)+len(a.RequestHeaders))
	str := func(key, operator string) *otlpcommonv1.KeyValue {
		return &otlpcommonv1.KeyValue{Key: key, Value: &otlpcommonv1.AnyValue{
			Value: &otlpcommonv1.AnyValue_StringValue{StringValue: operator}}}
	}
	for _, at := range logformat.Attributes {
		attrs = append(attrs, str(at.Key, at.Operator))
	}
	for _, h := range a.RequestHeaders {
		if h != "traceparent" {
			attrs = append(attrs, str(logformat.HeaderKey(h), "%REQ("+h+")%"))
		}
	}
	return &otelalsv3.OpenTelemetryAccessLogConfig{
		GrpcService:         sinkService(),
		LogName:             AccessLogName,
		BufferSizeBytes:     wrapperspb.UInt32(a.BufferSize),
		BufferFlushInterval: durationpb.New(a.FlushInterval),
		Body:                &otlpcommonv1.AnyValue{Value: &otlpcommonv1.AnyValue_StringValue{StringValue: logformat.Body}},
		Attributes:          &otlpcommonv1.KeyValueList{Values: attrs},
	}
}

// tracing samples requests that match no route at the default rate; each route overrides
// it with its own (routeTracing).
func tracing(defaultPercent float64) *hcmv3.HttpConnectionManager_Tracing {
	return &hcmv3.HttpConnectionManager_Tracing{
		RandomSampling: &typev3.Percent{Value: defaultPercent},
		Provider: &tracev3.Tracing_Http{
			Name: otelTracerName,
			ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: mustAny(&tracev3.OpenTelemetryConfig{
				GrpcService: sinkService(),
				ServiceName: TracingServiceName,
			})},
		},
	}
}

// routeTracing sets both random and overall sampling to the route's percentage: Envoy draws
// one random value per request for both, so random sampling traces p% of requests and the
// overall cap keeps client-forced traces within the same p%.
func routeTracing(percent float64) *routev3.Tracing {
	return &routev3.Tracing{RandomSampling: fraction(percent), OverallSampling: fraction(percent)}
}

// fraction expresses a percentage per million, so that 0.01% is exact.
func fraction(percent float64) *typev3.FractionalPercent {
	return &typev3.FractionalPercent{
		Numerator:   uint32(percent*10000 + 0.5),
		Denominator: typev3.FractionalPercent_MILLION,
	}
}
