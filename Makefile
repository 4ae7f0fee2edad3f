# govrrp: `make demo` shows it working, `make test` proves it.
GO       ?= go
# Version, commit and build date from git (scripts/version.sh): 0.2.0 at tag
# v0.2.0, 0.2.0+3.gabc1234 after it; the date is SOURCE_DATE_EPOCH or the
# commit's, so a commit always builds the same bytes.
VERSION  ?= $(shell ./scripts/version.sh version)
COMMIT   ?= $(shell ./scripts/version.sh commit)
DATE     ?= $(shell ./scripts/version.sh date)
# As shipped: static (no libc: runs on any Linux of the architecture), no
# symbol table or DWARF (about 5 MB of the file), no local paths; the bench
# measures the same build.
LDFLAGS  := -s -w -X govrrp/internal/version.Version=$(VERSION) \
	-X govrrp/internal/version.Commit=$(COMMIT) -X govrrp/internal/version.Date=$(DATE)
FUZZTIME ?= 60s

.PHONY: all build package test unit lint fmt-check vet staticcheck deps bench chaos fuzz demo clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

# The Debian package bin/govrrp_VERSION_ARCH.deb (internal/debpkg, nfpm): the
# static binaries, the unit, /etc/govrrp/govrrpd.yaml, man pages, completion.
# test/pkg checks it with lintian and an install/purge cycle.
package: build
	$(GO) run ./scripts/package -version $(VERSION) -commit $(COMMIT) -date $(DATE) -bin bin -o bin

# Debian packages the tests need (tshark, tcpdump, ...): installed when root,
# a failure under CI when they can't be.
deps:
	@./scripts/deps.sh

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

# Unit and package tests in parallel; then the suites that run real daemons
# in network namespaces one package at a time, so their timing checks don't
# compete for the CPU.
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v '/test/')
	$(GO) test -count=1 -p 1 -timeout 12m ./test/...

test: deps lint unit

# Go micro-benchmarks of every package, then (as root) the network benchmark
# beside keepalived (and FRR's bfdd and vrrpd for BFD), which writes
# docs/BENCHMARKS.md and docs/benchmarks.json.
# BENCHFLAGS=-quick: 3 runs, N=50 only (development).
# BENCHFLAGS='-cases bfd,bfdcpu -merge' reruns some parts and keeps the others
# from docs/benchmarks.json (the report names what it kept).
BENCHFLAGS ?=
bench:
	@micro=$$(mktemp); \
	$(GO) test -run='^$$' -bench=. -benchmem ./... 2>&1 | tee $$micro; \
	if [ "$$(id -u)" != 0 ]; then echo "bench: not root, network benchmark skipped"; rm -f $$micro; exit 0; fi; \
	$(GO) test -count=1 -timeout 150m -v -run '^TestBenchmarkReport$$' ./test/bench -bench-report -micro $$micro $(BENCHFLAGS); \
	rc=$$?; rm -f $$micro; exit $$rc

# The reliability campaign (root, a few minutes): bad input, floods,
# partitions, kill -9, reload storms and configuration mistakes against
# govrrpd in network namespaces; writes the figures into docs/RELIABILITY.md
# and fails when govrrpd breaks a promise. CHAOSFLAGS="-cases partition,kill9"
# reruns some (the document is then left alone).
CHAOSFLAGS ?=
chaos:
	$(GO) test -count=1 -timeout 20m -v -run '^TestChaos$$' ./test/chaos -chaos-report $(CHAOSFLAGS)

# Every native fuzz target, FUZZTIME each (default 60s).
fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

# The live lab: three govrrpd routers and a host in network namespaces,
# election, cable pull, preemption, graceful stop (root; flags via ARGS, e.g.
# make demo ARGS="--interval 50ms --keep"; ARGS=--clean removes a kept lab).
demo: build
	@./scripts/demo.sh $(ARGS)

clean:
	rm -rf bin
