#!/usr/bin/env bash
# `make run-stack`: the demo (`edgetel run --simulate`) with the real Prometheus, Loki and
# Jaeger on loopback, wired to the sink. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

hack/install-tools.sh apt loki jaeger >/dev/null
# shellcheck source=hack/tools-env.sh
source hack/tools-env.sh
make -s build

dir=$(mktemp -d -t edgetel-stack.XXXXXX)
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap stop INT TERM EXIT

bin/edgetel render rules > "$dir/rules.yaml"
sed "s|RULES_FILE|$dir/rules.yaml|" deploy/stack/prometheus.yml > "$dir/prometheus.yml"
sed "s|LOKI_DIR|$dir/loki|g" deploy/stack/loki.yaml > "$dir/loki.yaml"

prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prometheus" \
  --web.listen-address=127.0.0.1:9090 --enable-feature=exemplar-storage --log.level=warn \
  >"$dir/prometheus.log" 2>&1 &
pids+=($!)
loki -config.file="$dir/loki.yaml" >"$dir/loki.log" 2>&1 &
pids+=($!)
jaeger --config "deploy/stack/jaeger.yaml" >"$dir/jaeger.log" 2>&1 &
pids+=($!)

cat <<TXT
Backends (logs in $dir):
  Prometheus   http://127.0.0.1:9090   (try: edgetel:slo_burn_rate:rate5m, ALERTS)
  Loki         http://127.0.0.1:3100   (LogQL: {job="edgetel", route="shop/checkout"})
  Jaeger       http://127.0.0.1:16686  (API: /api/v3/traces/<trace id>)
TXT
bin/edgetel run --simulate --http-addr 127.0.0.1:9464 \
  --loki-url http://127.0.0.1:3100 --jaeger-endpoint 127.0.0.1:14317 \
  --jaeger-url http://127.0.0.1:16686 &
pids+=($!)
wait "${pids[-1]}"
