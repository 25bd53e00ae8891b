#!/usr/bin/env bash
# Builds a real kube-apiserver from k8s.io/kubernetes (via the Go module proxy)
# for the edgetel integration tests, cached as
# $EDGETEL_TOOLS_DIR/bin/kube-apiserver.
#
# The build runs in the separate tools module hack/tools/kube (its go.mod pins
# k8s.io/kubernetes and replaces every staging module with its published tag).
# Shared steps: hack/lib.sh.
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

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_init kube-apiserver kube "$@"

case "${TOOL_ARGS[0]:-}" in
  "") ;;
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
  *) log "unknown argument: ${TOOL_ARGS[0]}"; exit 2 ;;
esac

want="k8s.io/kubernetes $KUBE_VERSION mod=$(tool_mod_hash)"
tool_fresh "$want" && exit 0
tool_require k8s.io/kubernetes "$KUBE_VERSION"
tool_lock "$want"

major_minor="${KUBE_VERSION#v}"
major="${major_minor%%.*}"
minor="${major_minor#*.}"; minor="${minor%%.*}"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=(
    "-X=$pkg.gitVersion=$KUBE_VERSION"
    "-X=$pkg.gitMajor=$major"
    "-X=$pkg.gitMinor=$minor"
    "-X=$pkg.gitTreeState=clean"
    "-X=$pkg.buildDate=1970-01-01T00:00:00Z"
  )
done
tool_build "$want" k8s.io/kubernetes/cmd/kube-apiserver --version
