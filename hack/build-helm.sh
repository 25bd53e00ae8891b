#!/usr/bin/env bash
# Builds a real helm from helm.sh/helm/v3 (via the Go module proxy) for the
# edgetel chart tests (deploy/helm), cached as $EDGETEL_TOOLS_DIR/bin/helm.
#
# The build runs in the separate tools module hack/tools/helm (its go.mod copies
# the requirements of helm.sh/helm/v3 $HELM_VERSION; go.sum was seeded from
# upstream's go.sum). Shared steps: hack/lib.sh.
#
# Usage:
#   hack/build-helm.sh            build if the stamp is stale
#   hack/build-helm.sh --force    rebuild unconditionally
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_init helm helm "$@"
[ "${#TOOL_ARGS[@]}" -eq 0 ] || { log "unknown argument: ${TOOL_ARGS[0]}"; exit 2; }

# recipe= changes with the ldflags below, so a changed recipe rebuilds too.
want="helm.sh/helm/v3 $HELM_VERSION mod=$(tool_mod_hash) recipe=2"
tool_fresh "$want" && exit 0
tool_require helm.sh/helm/v3 "$HELM_VERSION"
tool_lock "$want"

# The ldflags of upstream's Makefile: helm reports its version from these variables (a
# module build has no VCS info), and `helm template`/`helm lint` assume the Kubernetes
# version of the client-go they were built with (v0.N.x is Kubernetes 1.N) rather than
# the fallback 1.20.
client_go="$(cd "$MODDIR" && go list -m -f '{{.Version}}' k8s.io/client-go)"
k8s_minor="$(cut -d. -f2 <<<"${client_go#v}")"
ldflags+=(
  "-X=helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  "-X=helm.sh/helm/v3/internal/version.gitTreeState=clean"
)
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=("-X=$pkg.k8sVersionMajor=1" "-X=$pkg.k8sVersionMinor=$k8s_minor")
done
tool_build "$want" helm.sh/helm/v3/cmd/helm version --short
