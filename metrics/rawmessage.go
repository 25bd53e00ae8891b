package metrics

import (
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/service/metrics/v3"

	"github.com/edgetel/edgetel/internal/rawpb"
)

// rawMessage is a StreamMetricsMessage kept as the bytes it came in, so that the receiver
// gets the wire bytes from gRPC without proto.Unmarshal building the message: Envoy sends one
// MetricFamily per stat it has, tens of thousands on a large Envoy, of which edgetel keeps a
// few per cluster. Building them all every flush would be most of the sink's allocation for
// nothing. See rawpb.Message for why it is sound with gRPC-Go's default codec.
type rawMessage = rawpb.Message[*metricsv3.StreamMetricsMessage]
