package xds

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	uuidv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/request_id/uuid/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

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

func accessLog(a model.AccessLog) *accesslogv3.AccessLog {
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
