# aioloop's build. `make demo` and `make test` are the README's two set-up commands.
GO ?= go
# Every BSD target the kqueue backend must compile for (32-bit ones too: their kevent udata is 4
# bytes), and Windows (386: AFD_POLL_INFO's layout differs from Go's there unless padded).
CROSS := darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64 freebsd/386 freebsd/arm \
         netbsd/amd64 netbsd/arm64 netbsd/386 netbsd/arm openbsd/amd64 openbsd/arm64 openbsd/386 \
         openbsd/arm dragonfly/amd64 windows/amd64 windows/arm64 windows/386
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: demo examples bench-build benchmarks profile test fmt-check vet race allocs bench-test cross bench cover lint test-windows fuzz reliability soak

# The side-by-side benchmark (bench/cmd/demo): aioloop, std, gnet and C echo servers pinned to one
# core, the load generator to another, about two and a half minutes. DEMO_FLAGS=-long for a
# steadier run.
demo: bench-build
	bench/bin/demo $(DEMO_FLAGS)

# Every runnable example, end to end.
examples:
	$(GO) test -count=1 -run '^Example' -v ./...

# The Go programs, and the C reference server (bench/cref) where a C compiler exists: without
# one the demo leaves its row out and says so.
CC ?= cc
bench-build:
	cd bench && $(GO) build -o bin/ ./cmd/...
	@if command -v $(CC) >/dev/null; then $(CC) -O2 -Wall -o bench/bin/udpecho bench/cref/udpecho.c; \
	else echo "bench-build: no C compiler ($(CC)): the demo runs without the C reference row"; fi

# BENCHMARKS.md, regenerated from a long demo run (about 17 minutes).
benchmarks: bench-build
	bench/bin/demo -long -markdown BENCHMARKS.md

# CPU and allocation profiles of aioloop's echo servers under load, and the top of each.
profile: bench-build
	bench/bin/demo -profile bench/profiles -duration 3s

test: fmt-check vet cross race allocs bench-test test-windows

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 -timeout 15m ./...

# The allocation counts, without the race detector (whose instrumentation allocates in crypto/tls).
allocs:
	$(GO) test -count=1 -run 'Alloc' ./...

# bench/ is its own module: vet it, and run its tests (every implementation under the load
# generator, and a short demo end to end).
bench-test:
	cd bench && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 10m ./...

# Every package's tests built for windows/amd64 and run under Wine, which internal/wine/setup.sh
# installs and prepares (as root it apt-gets wine64 and mingw-w64 when missing). Wine is not
# Windows: this checks the IOCP backend against Wine's model of AFD, not against Windows.
test-windows:
	@bin=$$(internal/wine/setup.sh) && PATH="$$bin:$$PATH" GOOS=windows GOARCH=amd64 $(GO) test -count=1 -timeout 10m ./...

# go vet, and a compiled (not run) test binary of every package, for each cross target.
cross:
	@set -e; for t in $(CROSS); do \
		os=$${t%/*}; arch=$${t#*/}; echo "cross: $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch $(GO) vet ./...; \
		for p in $$($(GO) list ./...); do GOOS=$$os GOARCH=$$arch $(GO) test -c -o /dev/null $$p; done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd bench && $(GO) test -run '^$$' -bench . -benchmem ./...

cover:
	$(GO) test -count=1 -coverprofile=cover.out ./...
	$(GO) tool cover -func=cover.out | tail -n 1

lint:
	$(GO) run $(STATICCHECK) ./...
	cd bench && $(GO) run $(STATICCHECK) ./...

# Every fuzz target of the module, one after another, FUZZTIME each (ten minutes a target in all is
# the bar), recorded in reliability/fuzz.tsv, and RELIABILITY.md regenerated. A failing input is
# written to its package's testdata/fuzz: commit it.
FUZZTIME ?= 1m
FUZZRUN ?= .
fuzz:
	$(GO) run ./internal/cmd/reliability fuzz -time $(FUZZTIME) -run '$(FUZZRUN)'

# The soak: UDP, Unix and TLS echo through one loop for SOAKTIME against clients that misbehave
# at random, every byte checked, goroutines, descriptors and heap measured; recorded in
# reliability/soak.tsv and RELIABILITY.md. Not part of make test (its 3-second form is).
SOAKTIME ?= 10m
soak:
	$(GO) run ./internal/cmd/reliability soak -time $(SOAKTIME)

# RELIABILITY.md from the records in reliability/.
reliability:
	$(GO) run ./internal/cmd/reliability doc
