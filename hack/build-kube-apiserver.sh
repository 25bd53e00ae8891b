#!/usr/bin/env bash
# Builds a real kube-apiserver from k8s.io/kubernetes (via the Go module proxy)
# for the edgetel integration tests, and caches it outside the repo:
#
#   $EDGETEL_TOOLS_DIR/bin/kube-apiserver
#   $EDGETEL_TOOLS_DIR/bin/kube-apiserver.stamp
#
# The build runs in the separate tools module hack/tools/kube (its go.mod pins
# k8s.io/kubernetes and replaces every staging module with its published tag).
# A warm run only compares the stamp and exits: no Go invocation at all.
#
# Usage:
#   hack/build-kube-apiserver.sh              build if the stamp is stale
#   hack/build-kube-apiserver.sh --force      rebuild unconditionally
#   hack/build-kube-apiserver.sh --regen-gomod
#       rewrite hack/tools/kube/go.mod from upstream's go.mod for KUBE_VERSION
#       and run `go mod tidy` (for version bumps; edits files in the repo)
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
# Staging modules are tagged v0.<minor>.<patch> for kubernetes v1.<minor>.<patch>.
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODDIR="$REPO_ROOT/hack/tools/kube"
# shellcheck source=hack/tools-env.sh
source "$REPO_ROOT/hack/tools-env.sh"
BIN_DIR="$EDGETEL_TOOLS_DIR/bin"
BIN="$BIN_DIR/kube-apiserver"
STAMP="$BIN.stamp"

log() { printf '[build-kube-apiserver] %s\n' "$*" >&2; }

# Isolate the tools build from whatever the caller's Go environment says about
# the main module (a go.work, -mod=vendor, ...).
export GOWORK=off
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  --regen-gomod)
    cd "$MODDIR"
    go mod download "k8s.io/kubernetes@$KUBE_VERSION"
    upstream="$(go env GOMODCACHE)/k8s.io/kubernetes@$KUBE_VERSION/go.mod"
    upstream_go="$(awk '$1=="go"{print $2; exit}' "$upstream")"
    {
      sed -n '1,/^module /{/^module /!p}' go.mod
      printf 'module github.com/edgetel/edgetel/hack/tools/kube\n\n'
      printf 'go %s\n\ngodebug default=go%s\n\n' "$upstream_go" "$(cut -d. -f1,2 <<<"$upstream_go")"
      printf 'tool k8s.io/kubernetes/cmd/kube-apiserver\n\n'
      printf 'require k8s.io/kubernetes %s\n\nreplace (\n' "$KUBE_VERSION"
      # Every k8s.io module upstream requires at v0.0.0 is a staging module.
      sed -n '/^require (/,/^)/p' "$upstream" |
        awk -v v="$STAGING_VERSION" '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {printf "\t%s => %s %s\n", $1, $1, v}'
      printf ')\n'
    } > go.mod.new
    mv go.mod.new go.mod
    go mod tidy
    log "regenerated $MODDIR/go.mod for $KUBE_VERSION; update KUBE_VERSION's default in this script if it changed"
    exit 0
    ;;
  *) log "unknown argument: $1"; exit 2 ;;
esac

# The stamp covers the requested version and the exact module graph.
mod_hash="$(cat "$MODDIR/go.mod" "$MODDIR/go.sum" | sha256sum | cut -c1-16)"
want_stamp="k8s.io/kubernetes $KUBE_VERSION mod=$mod_hash"

if [ "$force" = 0 ] && [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
  log "up to date: $BIN ($KUBE_VERSION)"
  exit 0
fi

if ! grep -Eq "^[[:space:]]*(require[[:space:]]+)?k8s\.io/kubernetes $KUBE_VERSION([[:space:]]|\$)" "$MODDIR/go.mod"; then
  log "hack/tools/kube/go.mod does not require k8s.io/kubernetes $KUBE_VERSION; run $0 --regen-gomod"
  exit 1
fi

mkdir -p "$BIN_DIR"

# Serialize concurrent builds (two test runs starting at once).
exec 9>"$BIN_DIR/.kube-apiserver.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
  # Another process may have finished the build while we waited.
  if [ "$force" = 0 ] && [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
    log "up to date (built concurrently): $BIN"
    exit 0
  fi
fi

major_minor="${KUBE_VERSION#v}"
major="${major_minor%%.*}"
minor="${major_minor#*.}"; minor="${minor%%.*}"
ldflags=(-s -w)
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=(
    "-X=$pkg.gitVersion=$KUBE_VERSION"
    "-X=$pkg.gitMajor=$major"
    "-X=$pkg.gitMinor=$minor"
    "-X=$pkg.gitTreeState=clean"
    "-X=$pkg.buildDate=1970-01-01T00:00:00Z"
  )
done

tmp="$BIN.tmp.$$"
trap 'rm -f "$tmp"' EXIT
log "building kube-apiserver $KUBE_VERSION with $(go env GOVERSION) (cold builds take a while) ..."
start=$(date +%s)
(
  cd "$MODDIR"
  go build -trimpath -ldflags="${ldflags[*]}" -o "$tmp" k8s.io/kubernetes/cmd/kube-apiserver
)
"$tmp" --version >/dev/null
mv -f "$tmp" "$BIN"
printf '%s\n' "$want_stamp" > "$STAMP"
log "built $BIN in $(( $(date +%s) - start ))s: $("$BIN" --version)"
