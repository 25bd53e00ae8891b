#!/usr/bin/env bash
# Installs the Debian-packaged external tools the test suite needs:
#   prometheus  -> prometheus, promtool
#   etcd-server -> etcd
#   chromium    -> chromium (headless browser for UI checks)
#
# Idempotent: packages that are already installed are skipped without touching
# apt at all, so a warm run takes well under a second.
set -euo pipefail

PACKAGES=(prometheus etcd-server chromium)
# package:binary pairs checked after the install.
BINARIES=(prometheus:prometheus prometheus:promtool etcd-server:etcd chromium:chromium)

log() { printf '[install-apt] %s\n' "$*" >&2; }

pkg_installed() {
  # dpkg -s reports "install ok installed" only for fully configured packages.
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
  pkg_installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { log "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    SUDO=(sudo -n)
  fi

  # The prometheus (and etcd-server) maintainer scripts try to start their
  # services. There is no init system in containers/CI, so forbid service
  # starts for the duration of the install with a temporary policy-rc.d.
  # An already existing policy-rc.d is left alone.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, written by edgetel hack/install-apt.sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 0755 "$policy"
    created_policy=1
  fi
  cleanup() { if [ "$created_policy" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi; }
  trap cleanup EXIT

  export DEBIAN_FRONTEND=noninteractive
  log "installing: ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"

  for p in "${missing[@]}"; do
    pkg_installed "$p" || { log "package $p did not install cleanly"; exit 1; }
  done
else
  log "all packages already installed: ${PACKAGES[*]}"
fi

# Verify the binaries are reachable by name (Debian installs them in /usr/bin).
rc=0
for pair in "${BINARIES[@]}"; do
  bin="${pair#*:}"
  if ! command -v "$bin" >/dev/null 2>&1; then
    log "ERROR: $bin (from ${pair%%:*}) is not on PATH"
    rc=1
  fi
done
[ "$rc" = 0 ] || exit "$rc"

if [ "${EDGETEL_QUIET:-0}" != 1 ]; then
  printf '%-12s %s\n' prometheus "$(prometheus --version 2>&1 | head -n1)"
  printf '%-12s %s\n' promtool   "$(promtool --version 2>&1 | head -n1)"
  printf '%-12s %s\n' etcd       "$(etcd --version 2>&1 | head -n1)"
  # The Debian launcher sources /etc/chromium.d/dev-shm, which prints a harmless
  # "[: ...: unexpected operator" on some tmpfs setups; hide that noise.
  printf '%-12s %s\n' chromium   "$(chromium --version 2>/dev/null | head -n1)"
fi
