#!/usr/bin/env bash
# Builds edgetel-otelcol, the OpenTelemetry Collector that `make bench-compare`
# runs as edgetel's peer, with the collector builder (ocb), cached as
# $EDGETEL_TOOLS_DIR/bin/edgetel-otelcol.
#
# Two steps, both outside the repo except for their inputs:
#   1. ocb itself, built from go.opentelemetry.io/collector/cmd/builder in the
#      tools module hack/tools/otelcol (go.mod/go.sum pin it);
#   2. ocb run on hack/tools/otelcol/builder-config.yaml (otlpreceiver,
#      signaltometricsconnector, deltatocumulativeprocessor, prometheusexporter),
#      generating sources and a go.mod under $EDGETEL_TOOLS_DIR/build/otelcol
#      and compiling them there. ocb resolves the component modules itself
#      (go get + go mod tidy through the module proxy).
# The stamp covers the tools module and the manifest, so editing either
# rebuilds. Shared steps: hack/lib.sh.
#
# Usage:
#   hack/build-otelcol.sh            build if the stamp is stale
#   hack/build-otelcol.sh --force    rebuild unconditionally
set -euo pipefail

OCB_VERSION="${OCB_VERSION:-v0.155.0}"
OCB_MODULE=go.opentelemetry.io/collector/cmd/builder

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_init edgetel-otelcol otelcol "$@"
[ "${#TOOL_ARGS[@]}" -eq 0 ] || { log "unknown argument: ${TOOL_ARGS[0]}"; exit 2; }

MANIFEST="$MODDIR/builder-config.yaml"
manifest_hash="$(sha256sum <"$MANIFEST" | cut -c1-16)"
want="$OCB_MODULE $OCB_VERSION mod=$(tool_mod_hash) manifest=$manifest_hash recipe=1"
tool_fresh "$want" && exit 0
tool_require "$OCB_MODULE" "$OCB_VERSION"
tool_lock "$want"

WORK="$EDGETEL_TOOLS_DIR/build/otelcol"
SRC="$WORK/src"
mkdir -p "$WORK"
start=$(date +%s)

log "building ocb $OCB_VERSION ..."
(cd "$MODDIR" && go build -trimpath -ldflags="${ldflags[*]}" -o "$WORK/ocb" "$OCB_MODULE")

# The manifest in the repo has no output path (it would be machine-specific):
# the copy ocb reads gets one under the tools dir. A fresh source dir each time,
# so a component removed from the manifest does not linger in go.mod.
rm -rf "$SRC"
awk -v out="$SRC" '{ print } /^dist:/ { printf "  output_path: %s\n", out }' \
  "$MANIFEST" > "$WORK/builder-config.yaml"

# ocb runs `go get`, `go mod tidy` and `go build` in $SRC: it must be free to
# update the generated go.mod there, so not -mod=readonly.
log "generating and compiling the collector in $SRC (cold builds take a while) ..."
GOFLAGS="-buildvcs=false" "$WORK/ocb" --config "$WORK/builder-config.yaml" \
  --ldflags="${ldflags[*]}" > "$WORK/ocb.log" 2>&1 || {
  tail -n 40 "$WORK/ocb.log" >&2
  log "ocb failed; full log: $WORK/ocb.log"
  exit 1
}

"$SRC/edgetel-otelcol" --version >/dev/null
mv -f "$SRC/edgetel-otelcol" "$BIN"
printf '%s\n' "$want" > "$STAMP"
log "built $BIN in $(( $(date +%s) - start ))s: $("$BIN" --version 2>&1 | head -n1)"
