// Package e2e holds end-to-end tests that run edgetel against the real Prometheus (and, as
// they arrive, Loki, Jaeger and kube-apiserver) on loopback. The tools come from
// hack/install-tools.sh; a missing one fails the test in CI and skips it elsewhere.
package e2e
