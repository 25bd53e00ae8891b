# shellcheck shell=bash
# Source this file (do not execute it) to put the edgetel test tools on PATH:
#
#   source hack/tools-env.sh
#
# Exports EDGETEL_TOOLS_DIR (default: $HOME/.cache/edgetel-tools) and prepends
# $EDGETEL_TOOLS_DIR/bin to PATH (once). Safe to source repeatedly and from
# shells running with `set -euo pipefail`.

export EDGETEL_TOOLS_DIR="${EDGETEL_TOOLS_DIR:-${HOME:-/root}/.cache/edgetel-tools}"

case ":${PATH:-}:" in
  *":${EDGETEL_TOOLS_DIR}/bin:"*) ;;
  *) export PATH="${EDGETEL_TOOLS_DIR}/bin${PATH:+:${PATH}}" ;;
esac
