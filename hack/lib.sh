# shellcheck shell=bash
# The shared half of hack/build-*.sh: each script builds one external tool from
# its Go module in a tools module under hack/tools/, and caches the binary
# outside the repo with a stamp:
#
#   $EDGETEL_TOOLS_DIR/bin/NAME        the binary
#   $EDGETEL_TOOLS_DIR/bin/NAME.stamp  module, version and a hash of go.mod+go.sum
#
# A warm run only compares the stamp and exits: no Go invocation at all.
#
# A script sources this file, then:
#
#   tool_init NAME TOOLS_SUBDIR "$@"   # REPO_ROOT MODDIR BIN STAMP force; log()
#   want="MODULE VERSION mod=$(tool_mod_hash)"
#   tool_fresh "$want" && exit 0
#   tool_require MODULE VERSION        # go.mod must pin what the script builds
#   tool_lock "$want"                  # one build at a time; exits if built meanwhile
#   ldflags=(...) build_flags=(...)
#   tool_build "$want" PACKAGE VERSION_ARGS...
#
# tool_init handles --force; other arguments are left in TOOL_ARGS for the
# script (the --regen-gomod of scripts that can regenerate their go.mod).

TOOL_LIB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=hack/tools-env.sh
source "$TOOL_LIB_ROOT/hack/tools-env.sh"

# tool_init NAME TOOLS_SUBDIR ARGS...
tool_init() {
  TOOL_NAME="$1"
  REPO_ROOT="$TOOL_LIB_ROOT"
  MODDIR="$REPO_ROOT/hack/tools/$2"
  BIN_DIR="$EDGETEL_TOOLS_DIR/bin"
  BIN="$BIN_DIR/$TOOL_NAME"
  STAMP="$BIN.stamp"
  shift 2
  # Isolate the tools build from whatever the caller's Go environment says
  # about the main module (a go.work, -mod=vendor, ...).
  export GOWORK=off
  export GOFLAGS="-mod=readonly -buildvcs=false"
  export CGO_ENABLED=0
  force=0
  TOOL_ARGS=()
  local a
  for a in "$@"; do
    case "$a" in
      --force) force=1 ;;
      *) TOOL_ARGS+=("$a") ;;
    esac
  done
  ldflags=(-s -w)
  build_flags=()
}

log() { printf '[build-%s] %s\n' "${TOOL_NAME:-tool}" "$*" >&2; }

# tool_mod_hash: the exact module graph of the tools module.
tool_mod_hash() {
  cat "$MODDIR/go.mod" "$MODDIR/go.sum" | sha256sum | cut -c1-16
}

# tool_fresh WANT: true when the cached binary was built for WANT (and no --force).
tool_fresh() {
  if [ "$force" = 0 ] && [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$1" ]; then
    log "up to date: $BIN ($1)"
    return 0
  fi
  return 1
}

# tool_require MODULE VERSION: the tools module's go.mod must pin MODULE at VERSION.
tool_require() {
  local re="${1//./\\.}"
  if ! grep -Eq "^[[:space:]]*(require[[:space:]]+)?$re $2([[:space:]]|\$)" "$MODDIR/go.mod"; then
    log "${MODDIR#"$REPO_ROOT"/}/go.mod does not require $1 $2; update it (and go.sum) first"
    exit 1
  fi
}

# tool_lock WANT: serialize concurrent builds (two test runs starting at once);
# exits the script when another process finished the build while we waited.
tool_lock() {
  mkdir -p "$BIN_DIR"
  exec 9>"$BIN_DIR/.$TOOL_NAME.lock"
  if command -v flock >/dev/null 2>&1; then
    flock 9
    if tool_fresh "$1"; then exit 0; fi
  fi
}

# tool_build WANT PACKAGE VERSION_ARGS...: go build PACKAGE in the tools module
# with $ldflags and $build_flags, check that the result runs (BIN VERSION_ARGS),
# then install it and write the stamp.
tool_build() {
  local want="$1" pkg="$2"
  shift 2
  local tmp="$BIN.tmp.$$" start
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -f '$tmp'" EXIT
  log "building $pkg with $(go env GOVERSION) (cold builds take a while) ..."
  start=$(date +%s)
  (
    cd "$MODDIR"
    go build -trimpath "${build_flags[@]}" -ldflags="${ldflags[*]}" -o "$tmp" "$pkg"
  )
  "$tmp" "$@" >/dev/null
  mv -f "$tmp" "$BIN"
  printf '%s\n' "$want" > "$STAMP"
  local v
  v="$("$BIN" "$@" 2>&1)" || true
  log "built $BIN in $(( $(date +%s) - start ))s: ${v%%$'\n'*}"
}

# tool_regen_gomod MODULE VERSION TOOL_PACKAGE [seed-sum]: rewrite the tools
# module's go.mod from upstream's go.mod at VERSION, carrying upstream's replace
# and exclude lines (they do not apply to dependents) except local ones (./ or
# ../, whose directories are not in the module zip), then `go mod tidy`. With
# seed-sum, go.sum starts from upstream's go.sum: some checksums the graph needs
# cannot be looked up here. HEADER_LINES (an array) are written as comments first.
tool_regen_gomod() {
  local module="$1" version="$2" tool_pkg="$3" seed="${4:-}"
  mkdir -p "$MODDIR"
  cd "$MODDIR"
  local info upstream upstream_dir upstream_go line
  info="$(go mod download -json "$module@$version")"
  upstream="$(awk -F'"' '$2=="GoMod"{print $4}' <<<"$info")"
  upstream_dir="$(awk -F'"' '$2=="Dir"{print $4}' <<<"$info")"
  upstream_go="$(awk '$1=="go"{print $2; exit}' "$upstream")"
  {
    for line in "${HEADER_LINES[@]}"; do printf '// %s\n' "$line"; done
    printf 'module github.com/edgetel/edgetel/hack/tools/%s\n\n' "$(basename "$MODDIR")"
    printf 'go %s\n\ngodebug default=go%s\n\n' "$upstream_go" "$(cut -d. -f1,2 <<<"$upstream_go")"
    printf 'tool %s\n\n' "$tool_pkg"
    printf 'require %s %s\n\n' "$module" "$version"
    awk '
      /^(replace|exclude)[[:space:]]*\($/ { blk = $1; next }
      blk != "" && /^\)/ { blk = ""; next }
      blk != "" { line = blk " " $0 }
      blk == "" && /^(replace|exclude)[[:space:]]/ { line = $0 }
      line != "" {
        sub(/[[:space:]]*\/\/.*$/, "", line); gsub(/[[:space:]]+/, " ", line)
        if (line !~ /=> \.\.?\//) print line
        line = ""
      }' "$upstream"
  } > go.mod.new
  mv go.mod.new go.mod
  if [ "$seed" = seed-sum ]; then
    # Upstream's checksums plus the module's own (go.mod line and zip hash).
    {
      cat "$upstream_dir/go.sum"
      grep -h "^$module $version[ /]" go.sum 2>/dev/null || true
    } | sort -u > go.sum.new
    mv go.sum.new go.sum
  fi
  go mod tidy
  log "regenerated $MODDIR/go.mod for $version; update the version's default in the script if it changed"
}
