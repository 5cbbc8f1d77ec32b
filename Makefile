# meshc — see README.md. `make help` lists the targets.
GO       ?= go
EXAMPLES := $(patsubst examples/%/mesh.yaml,%,$(wildcard examples/*/mesh.yaml))

.DEFAULT_GOAL := help

.PHONY: help
help: ## list targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/meshc
	$(GO) build -o bin/meshc ./cmd/meshc

.PHONY: render
render: build ## render every example into out/<example>/
	@for ex in $(EXAMPLES); do \
		echo "meshc render examples/$$ex/mesh.yaml -o out/$$ex"; \
		bin/meshc render examples/$$ex/mesh.yaml -o out/$$ex || exit 1; \
	done

.PHONY: test
test: ## check formatting, vet, and run every test (golden, CLI, negative, docs)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test ./...

.PHONY: kustomize
kustomize: build ## build examples/kustomize overlays with kustomize from PATH (v5.8.2) and diff with golden/kustomize
	@for o in examples/kustomize/overlays/*/; do \
		name=$$(basename $$o); \
		echo "kustomize build --enable-alpha-plugins --enable-exec $$o"; \
		kustomize build --enable-alpha-plugins --enable-exec $$o | diff -u golden/kustomize/$$name.yaml - || exit 1; \
	done

.PHONY: conformance
conformance: ## check meshes' output with Istio's own installer, validation and discovery (own module; slow first run)
	cd conformance && $(GO) vet ./... && $(GO) test -timeout 40m ./...

.PHONY: e2e
e2e: ## rehearse rendered plans on real API servers with kubectl, istioctl, helm and istiod (own module; first run builds them, ~30 min)
	cd e2e && $(GO) vet ./... && MESHC_E2E=1 $(GO) test -count=1 -timeout 90m .

.PHONY: golden
golden: ## regenerate golden files and CLI script output (review with git diff)
	MESHC_UPDATE=1 $(GO) test ./...

.PHONY: check-golden
check-golden: golden ## fail if regenerated golden files (output, scripts, 100-cluster pictures, JSON Schema, generated and checked docs) differ from the committed ones
	git diff --exit-code -- golden cmd/meshc/testdata compiler/testdata/invalid diagram/testdata schema/mesh.schema.json '*.md'

FUZZTIME ?= 3m

.PHONY: fuzz
fuzz: ## fuzz Load, Validate and Render, then the plan writers, each for FUZZTIME (default 3m); crashers land in compiler/testdata/fuzz
	$(GO) test -run='^$$' -fuzz=FuzzCheck -fuzztime=$(FUZZTIME) ./compiler
	$(GO) test -run='^$$' -fuzz=FuzzPlanWriters -fuzztime=$(FUZZTIME) ./compiler

.PHONY: fmt
fmt: ## gofmt every Go file
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet
	$(GO) vet ./...

.PHONY: clean
clean: ## remove build and render output
	rm -rf bin out

.PHONY: screenshots
screenshots: ## open each example's mesh.svg in headless Chromium, check what it shows, refresh docs/images/ (skips without chromium)
	MESHC_SCREENSHOTS=1 $(GO) test -count=1 -run '^TestScreenshots$$' -v ./diagram

.PHONY: bench
bench: ## measure meshc at 3 to 1000 clusters against the CUE baseline; print the tables and the targets (~5 min)
	$(GO) run ./internal/cmd/bench
