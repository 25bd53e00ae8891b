package als

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"

	"github.com/edgetel/edgetel/internal/rawpb"
)

// rawMessage is a StreamAccessLogsMessage kept as the bytes it came in, so that the
// receiver gets the wire bytes from gRPC without proto.Unmarshal building the message (see
// rawpb.Message for why that is sound with gRPC-Go's default codec).
type rawMessage = rawpb.Message[*accesslogv3.StreamAccessLogsMessage]
