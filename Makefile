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
test: lint tools
	$(TOOLS_ENV) && EDGETEL_REQUIRE_TOOLS=$${EDGETEL_REQUIRE_TOOLS:-$${CI:-}} $(GO) test -count=1 -timeout 30m $(PKGS)

## test-unit: the tests that need no external tool.
test-unit:
	$(GO) test -count=1 -short $(PKGS)

## bench: Go benchmarks of the hot paths, one core.
bench:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./sink/ ./als/ ./slo/ ./xds/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## tools: install or build the external tools the tests use (cached outside the repo).
tools:
	hack/install-tools.sh

## generate: deepcopy and CRDs from api/v1alpha1.
generate:
	$(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.21.0 object crd:allowDangerousTypes=true paths=./api/... output:crd:dir=deploy/crds

clean:
	rm -rf bin
