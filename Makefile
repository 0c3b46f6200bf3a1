# Deskline: every command a person runs. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
STATICCHECK_VERSION := v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin
WITH_SERVICES := $(GO) run ./localstack/cmd/withservices --

.PHONY: help dev dev-reset test unit lint fmt vet staticcheck bench seed-admin invoke build gen analytics-rebuild

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

dev: ## run the whole stack locally (DynamoDB Local + HTTP API on 127.0.0.1:3000)
	$(GO) run ./localstack

dev-reset: ## wipe local dev data (DESKLINE_DATA_DIR, default .data)
	rm -rf "$${DESKLINE_DATA_DIR:-.data}"

test: lint infra-test ## every test: lint, CDK assertions, Go tests against DynamoDB Local, versitygw and headless Chromium, every real bootstrap through aws-lambda-rie
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(WITH_SERVICES) bash -c '$(GO) test -count=1 -timeout 40m ./... && $(GO) run ./localstack/cmd/lambda-smoke'

unit: ## unit tests only (no services; integration tests skip)
	$(GO) test ./...

lint: fmt vet staticcheck ## gofmt, go vet, staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd infra && $(GO) vet ./...

staticcheck:
	@test -x "$(GOBIN)/staticcheck" && "$(GOBIN)/staticcheck" -version | grep -q "$(STATICCHECK_VERSION)" \
	  || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	"$(GOBIN)/staticcheck" ./...
	cd infra && "$(GOBIN)/staticcheck" ./...

bench: ## latency of key routes through the local cloud (p50/p99)
	$(WITH_SERVICES) $(GO) test -count=1 -run '^$$' -bench . -benchtime 300x ./localstack/cloud/

seed-admin: ## create an approved admin: make seed-admin ADMIN_EMAIL=… ADMIN_PASSWORD=… (local dev data or AWS)
	DESKLINE_DYNAMODB_ENDPOINT="$${DESKLINE_DYNAMODB_ENDPOINT-http://127.0.0.1:$${DESKLINE_DYNAMODB_PORT:-8000}}" $(GO) run ./localstack/cmd/seed-admin

invoke: ## run one function's handler with an event: make invoke FN=auth-login EVENT=events/http/auth-login.json
	$(GO) run ./localstack/cmd/invoke -fn "$(FN)" -event "$(EVENT)"

build: build-lambdas ## compile everything, and every function's bootstrap for Lambda (build/lambda/<name>/bootstrap)
	$(GO) build ./...

analytics-rebuild: ## recompute every analytics aggregate from the base items (local dev data; AWS with DESKLINE_DYNAMODB_ENDPOINT= DESKLINE_TABLE=…)
	DESKLINE_DYNAMODB_ENDPOINT="$${DESKLINE_DYNAMODB_ENDPOINT-http://127.0.0.1:$${DESKLINE_DYNAMODB_PORT:-8000}}" $(GO) run ./localstack/cmd/analytics-rebuild

gen: ## write functions/<name>/main.go for new routes
	$(GO) run ./functions/internal/genmains

include mk/*.mk
