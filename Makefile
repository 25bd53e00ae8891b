# edgetel: `make run` starts the demo, `make test` runs every test.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin/edgetel
PKGS := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/edgetel/edgetel/internal/version.Version=$(VERSION)
TOOLS_ENV := source hack/tools-env.sh

.PHONY: all build run run-stack test test-unit bench lint tools generate clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/edgetel

## run: build and start the whole demo (xDS server, sink, status page, simulated Envoy fleet).
run: build
	./$(BIN) run --simulate

## run-stack: the demo with the real Prometheus, Loki and Jaeger on loopback, wired to the sink.
run-stack:
	hack/run-stack.sh

## test: the full suite, with the real Prometheus, etcd and kube-apiserver the tests need.
## Tests build without PGO (cmd/edgetel/default.pgo is for `make build`): one compile of
## every dependency, not two.
test: lint tools
	$(TOOLS_ENV) && EDGETEL_REQUIRE_TOOLS=$${EDGETEL_REQUIRE_TOOLS:-$${CI:-}} $(GO) test -pgo=off -count=1 -timeout 30m $(PKGS)

## test-unit: the tests that need no external tool.
test-unit:
	$(GO) test -pgo=off -count=1 -short $(PKGS)

## bench: Go benchmarks of the hot paths, one core.
bench:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./sink/ ./als/ ./slo/ ./xds/

## bench-compare: the sink beside its OpenTelemetry Collector peer, same load, each alone on
## core 0 (the load generator on core 1), one table with the control plane's 10k-route
## figures (docs/performance.md). BENCH_FLAGS=-duration 5s for a quick look.
BENCH_FLAGS ?= -duration 20s -streams 4 -rounds 5
.PHONY: bench-compare soak
bench-compare: build
	$(GO) build -o bin/edgetel-bench ./bench/cmd/edgetel-bench
	hack/build-otelcol.sh
	set -o pipefail; GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'PublishEdge' -benchtime 20x ./xds/ | tee bin/xds-bench.txt
	$(TOOLS_ENV) && taskset -c 1 bin/edgetel-bench -edgetel $(BIN) -otelcol "$$(command -v edgetel-otelcol)" \
	  -core 0 -xds-bench bin/xds-bench.txt $(BENCH_FLAGS)

## soak: the sink alone at 200k entries/s (ALS) for 10 minutes: RSS slope and drops.
SOAK_FLAGS ?= -rate 200000 -duration 10m -streams 4
soak: build
	$(GO) build -o bin/edgetel-bench ./bench/cmd/edgetel-bench
	taskset -c 1 bin/edgetel-bench -mode soak -protocols als -edgetel $(BIN) -core 0 $(SOAK_FLAGS)

## lint: gofmt and go vet; vet builds without PGO, sharing the test build's cache.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet -pgo=off $(PKGS)

## tools: install or build the external tools the tests use (cached outside the repo).
tools:
	hack/install-tools.sh

## generate: deepcopy and CRDs from api/v1alpha1.
generate:
	$(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.21.0 object crd:allowDangerousTypes=true paths=./api/... output:crd:dir=deploy/crds

clean:
	rm -rf bin
