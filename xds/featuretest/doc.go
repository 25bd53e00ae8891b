// Package featuretest drives edgetel's xDS server the way its clients do, in process and
// over real gRPC (as Contour's internal/featuretests do): publish a configuration, change
// endpoints, then assert what go-control-plane's ADS client, a hand-driven ADS stream shaped
// like Envoy's, or gRPC-Go's own xDS resolver receives. It holds tests only.
package featuretest
