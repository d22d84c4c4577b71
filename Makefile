# aioloop's build. `make demo` and `make test` are the README's two set-up commands.
GO ?= go
# Every BSD target the kqueue backend must compile for, and Windows (ErrUnsupported until IOCP).
CROSS := darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64 netbsd/amd64 netbsd/arm64 \
         openbsd/amd64 openbsd/arm64 dragonfly/amd64 windows/amd64 windows/arm64
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: demo test fmt-check vet race cross bench cover lint

# Until the bench/ module lands, the demo runs every runnable example end to end.
demo:
	$(GO) test -count=1 -run '^Example' -v ./...

test: fmt-check vet cross race

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 -timeout 15m ./...

# go vet, and a compiled (not run) test binary of every package, for each cross target.
cross:
	@set -e; for t in $(CROSS); do \
		os=$${t%/*}; arch=$${t#*/}; echo "cross: $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch $(GO) vet ./...; \
		for p in $$($(GO) list ./...); do GOOS=$$os GOARCH=$$arch $(GO) test -c -o /dev/null $$p; done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

cover:
	$(GO) test -count=1 -coverprofile=cover.out ./...
	$(GO) tool cover -func=cover.out | tail -n 1

lint:
	$(GO) run $(STATICCHECK) ./...
