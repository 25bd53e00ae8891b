#!/usr/bin/env bash
# Installs / builds every external tool the edgetel test suite runs for real,
# one step at a time, then prints a version summary.
#
# Usage: hack/install-tools.sh [STEP...]
#   STEP is one of:
#     apt     prometheus, promtool, etcd, chromium from Debian (hack/install-apt.sh)
#     kube    kube-apiserver built from k8s.io/kubernetes (hack/build-kube-apiserver.sh)
#     loki    loki built from github.com/grafana/loki/v3 (hack/build-loki.sh)
#     jaeger  jaeger (v2) built from github.com/jaegertracing/jaeger (hack/build-jaeger.sh)
#     helm    helm built from helm.sh/helm/v3 (hack/build-helm.sh)
#     kubeconform  kubeconform built from its module, with schemas generated from
#             the Kubernetes OpenAPI spec (hack/build-kubeconform.sh)
#     otelcol the OpenTelemetry Collector peer of `make bench-compare`, built with
#             the collector builder (hack/build-otelcol.sh)
#     all     every step (the default)
#
# Builds are cached in ${EDGETEL_TOOLS_DIR:-$HOME/.cache/edgetel-tools}; a warm
# run takes about a second. Afterwards: `source hack/tools-env.sh`.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=hack/tools-env.sh
source "$REPO_ROOT/hack/tools-env.sh"

ALL_STEPS=(apt kube loki jaeger helm kubeconform otelcol)
steps=()
if [ "$#" -eq 0 ]; then
  steps=("${ALL_STEPS[@]}")
fi
for arg in "$@"; do
  case "$arg" in
    all) steps+=("${ALL_STEPS[@]}") ;;
    apt|kube|loki|jaeger|helm|kubeconform|otelcol) steps+=("$arg") ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf 'install-tools: unknown step %q (want: apt, kube, loki, jaeger, helm, kubeconform, otelcol, all)\n' "$arg" >&2; exit 2 ;;
  esac
done

log() { printf '[install-tools] %s\n' "$*" >&2; }

has_step() {
  local s
  for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

start=$(date +%s)
# Fixed order, each step at most once, one at a time (2-core machines).
for s in "${ALL_STEPS[@]}"; do
  has_step "$s" || continue
  t0=$(date +%s)
  case "$s" in
    apt)  EDGETEL_QUIET=1 "$REPO_ROOT/hack/install-apt.sh" ;;
    kube) "$REPO_ROOT/hack/build-kube-apiserver.sh" ;;
    loki) "$REPO_ROOT/hack/build-loki.sh" ;;
    jaeger) "$REPO_ROOT/hack/build-jaeger.sh" ;;
    helm) "$REPO_ROOT/hack/build-helm.sh" ;;
    kubeconform) "$REPO_ROOT/hack/build-kubeconform.sh" ;;
    otelcol) "$REPO_ROOT/hack/build-otelcol.sh" ;;
  esac
  log "step $s done in $(( $(date +%s) - t0 ))s"
done

version() {
  # version NAME CMD...: first line of CMD's output, or "MISSING".
  local name="$1"; shift
  local out
  # The whole output first: `| head -n1` would close the pipe on a tool that prints more,
  # and with pipefail its SIGPIPE reads as failure.
  if command -v "$1" >/dev/null 2>&1 && out="$("$@" 2>/dev/null)" && out="${out%%$'\n'*}" && [ -n "$out" ]; then
    printf '  %-15s %-45s %s\n' "$name" "$out" "$(command -v "$1")"
  else
    printf '  %-15s MISSING\n' "$name"
    return 1
  fi
}

echo "edgetel tools (EDGETEL_TOOLS_DIR=$EDGETEL_TOOLS_DIR):"
rc=0
if has_step apt; then
  version prometheus prometheus --version || rc=1
  version promtool promtool --version || rc=1
  version etcd etcd --version || rc=1
  version chromium chromium --version || rc=1
fi
if has_step kube; then
  version kube-apiserver kube-apiserver --version || rc=1
fi
if has_step loki; then
  version loki loki -version || rc=1
fi
if has_step jaeger; then
  version jaeger jaeger --version || rc=1
fi
if has_step helm; then
  version helm helm version --short || rc=1
fi
if has_step kubeconform; then
  version kubeconform kubeconform -v || rc=1
fi
if has_step otelcol; then
  version otelcol edgetel-otelcol --version || rc=1
fi
log "finished in $(( $(date +%s) - start ))s"
exit "$rc"
