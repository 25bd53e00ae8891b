#!/usr/bin/env bash
# Builds a real helm from helm.sh/helm/v3 (via the Go module proxy) for the
# edgetel chart tests (deploy/helm), and caches it outside the repo:
#
#   $EDGETEL_TOOLS_DIR/bin/helm
#   $EDGETEL_TOOLS_DIR/bin/helm.stamp
#
# The build runs in the separate tools module hack/tools/helm (its go.mod copies
# the requirements of helm.sh/helm/v3 $HELM_VERSION; go.sum was seeded from
# upstream's go.sum). A warm run only compares the stamp and exits: no Go
# invocation at all.
#
# Usage:
#   hack/build-helm.sh            build if the stamp is stale
#   hack/build-helm.sh --force    rebuild unconditionally
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODDIR="$REPO_ROOT/hack/tools/helm"
# shellcheck source=hack/tools-env.sh
source "$REPO_ROOT/hack/tools-env.sh"
BIN_DIR="$EDGETEL_TOOLS_DIR/bin"
BIN="$BIN_DIR/helm"
STAMP="$BIN.stamp"

log() { printf '[build-helm] %s\n' "$*" >&2; }

# Isolate the tools build from whatever the caller's Go environment says about
# the main module (a go.work, -mod=vendor, ...).
export GOWORK=off
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  *) log "unknown argument: $1"; exit 2 ;;
esac

# The stamp covers the requested version and the exact module graph.
mod_hash="$(cat "$MODDIR/go.mod" "$MODDIR/go.sum" | sha256sum | cut -c1-16)"
# recipe= changes with the ldflags below, so a changed recipe rebuilds too.
want_stamp="helm.sh/helm/v3 $HELM_VERSION mod=$mod_hash recipe=2"

if [ "$force" = 0 ] && [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
  log "up to date: $BIN ($HELM_VERSION)"
  exit 0
fi

if ! grep -Eq "^[[:space:]]*(require[[:space:]]+)?helm\.sh/helm/v3 $HELM_VERSION([[:space:]]|\$)" "$MODDIR/go.mod"; then
  log "hack/tools/helm/go.mod does not require helm.sh/helm/v3 $HELM_VERSION; update it (and go.sum) first"
  exit 1
fi

mkdir -p "$BIN_DIR"

# Serialize concurrent builds (two test runs starting at once).
exec 9>"$BIN_DIR/.helm.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
  # Another process may have finished the build while we waited.
  if [ "$force" = 0 ] && [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
    log "up to date (built concurrently): $BIN"
    exit 0
  fi
fi

# The ldflags of upstream's Makefile: helm reports its version from these variables (a
# module build has no VCS info), and `helm template`/`helm lint` assume the Kubernetes
# version of the client-go they were built with (v0.N.x is Kubernetes 1.N) rather than
# the fallback 1.20.
client_go="$(cd "$MODDIR" && go list -m -f '{{.Version}}' k8s.io/client-go)"
k8s_minor="$(cut -d. -f2 <<<"${client_go#v}")"
ldflags=(-s -w
  "-X=helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  "-X=helm.sh/helm/v3/internal/version.gitTreeState=clean"
)
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=("-X=$pkg.k8sVersionMajor=1" "-X=$pkg.k8sVersionMinor=$k8s_minor")
done

tmp="$BIN.tmp.$$"
trap 'rm -f "$tmp"' EXIT
log "building helm $HELM_VERSION with $(go env GOVERSION) ..."
start=$(date +%s)
(
  cd "$MODDIR"
  go build -trimpath -ldflags="${ldflags[*]}" -o "$tmp" helm.sh/helm/v3/cmd/helm
)
"$tmp" version --short >/dev/null
mv -f "$tmp" "$BIN"
printf '%s\n' "$want_stamp" > "$STAMP"
log "built $BIN in $(( $(date +%s) - start ))s: $("$BIN" version --short)"
