#!/usr/bin/env bash
# Builds kubeconform from github.com/yannh/kubeconform (via the Go module proxy) for the
# edgetel chart tests (deploy/helm), cached as $EDGETEL_TOOLS_DIR/bin/kubeconform, and
# generates the JSON schemas it validates against, since kubeconform cannot download them
# here:
#
#   $EDGETEL_TOOLS_DIR/kubeconform-schemas/$KUBE_VERSION-standalone-strict/<kind>-<group>-<version>.json
#       every kind of api/openapi-spec/swagger.json of k8s.io/kubernetes (the version that
#       hack/tools/kube pins), plus ServiceMonitor and PrometheusRule from the CRDs of
#       github.com/prometheus-operator/prometheus-operator $PROM_OPERATOR_VERSION
#   $EDGETEL_TOOLS_DIR/kubeconform-schemas/crds/*.yaml
#       those two CRDs, for the tests to install into their API server
#
# The schemas of edgetel's own CRDs (deploy/crds) change with the repo, so the tests
# generate those themselves (internal/kubeschema).
#
# Usage:
#   hack/build-kubeconform.sh            build and generate what is stale
#   hack/build-kubeconform.sh --force    both unconditionally
set -euo pipefail

KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
# v0.95.x is not on the proxy here ("This module version is not available").
PROM_OPERATOR_VERSION="${PROM_OPERATOR_VERSION:-v0.94.1}"

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_init kubeconform kubeconform "$@"
[ "${#TOOL_ARGS[@]}" -eq 0 ] || { log "unknown argument: ${TOOL_ARGS[0]}"; exit 2; }

# schemas: generated unless their stamp matches the inputs (the Kubernetes and Prometheus
# Operator versions and the generator's source).
schemas() {
  local root="$EDGETEL_TOOLS_DIR/kubeconform-schemas"
  local kube_version gen_hash want_schemas
  # From go.mod rather than `go list`: a warm run invokes no Go at all.
  kube_version="$(awk '$1=="k8s.io/kubernetes"{print $2; exit} $1=="require" && $2=="k8s.io/kubernetes"{print $3; exit}' \
    "$REPO_ROOT/hack/tools/kube/go.mod")"
  [ -n "$kube_version" ] || { log "hack/tools/kube/go.mod does not require k8s.io/kubernetes"; exit 1; }
  gen_hash="$(find "$REPO_ROOT/internal/kubeschema" -name '*.go' ! -name '*_test.go' | sort | xargs cat | sha256sum | cut -c1-16)"
  want_schemas="k8s.io/kubernetes $kube_version prometheus-operator $PROM_OPERATOR_VERSION gen=$gen_hash"
  if [ "$force" = 0 ] && [ -f "$root/.stamp" ] && [ "$(cat "$root/.stamp")" = "$want_schemas" ]; then
    log "schemas up to date: $root ($want_schemas)"
    return 0
  fi
  local start kube_dir prom_dir
  start=$(date +%s)
  # The kube tools module's go.sum pins k8s.io/kubernetes; the Prometheus Operator module is
  # fetched alone (checked against the checksum database), for its CRD YAML only.
  kube_dir="$(cd "$REPO_ROOT/hack/tools/kube" && go mod download -json k8s.io/kubernetes | awk -F'"' '$2=="Dir"{print $4}')"
  prom_dir="$(cd "$MODDIR" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION" | awk -F'"' '$2=="Dir"{print $4}')"
  local crds="$prom_dir/example/prometheus-operator-crd"
  local out="$root/$kube_version-standalone-strict"
  rm -rf "$root.tmp.$$"
  mkdir -p "$root.tmp.$$/crds"
  # shellcheck disable=SC2064 # expand now
  trap "rm -rf '$root.tmp.$$'" EXIT
  cp "$crds/monitoring.coreos.com_servicemonitors.yaml" "$crds/monitoring.coreos.com_prometheusrules.yaml" "$root.tmp.$$/crds/"
  (
    cd "$REPO_ROOT"
    go run ./internal/kubeschema/cmd/kubeschema -strict \
      -swagger "$kube_dir/api/openapi-spec/swagger.json" \
      -out "$root.tmp.$$/${out##*/}" \
      "$root.tmp.$$"/crds/*.yaml
  )
  rm -rf "$root"
  mv "$root.tmp.$$" "$root"
  printf '%s\n' "$want_schemas" > "$root/.stamp"
  log "generated $(find "$out" -name '*.json' | wc -l) schemas in $out in $(( $(date +%s) - start ))s"
}

want="github.com/yannh/kubeconform $KUBECONFORM_VERSION mod=$(tool_mod_hash)"
# One lock over the binary and the schemas (rather than tool_lock, which exits when the
# binary was built meanwhile): a second run waits until both are done.
mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.$TOOL_NAME.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if ! tool_fresh "$want"; then
  tool_require github.com/yannh/kubeconform "$KUBECONFORM_VERSION"
  ldflags+=("-X=main.version=$KUBECONFORM_VERSION")
  tool_build "$want" github.com/yannh/kubeconform/cmd/kubeconform -v
fi
schemas
