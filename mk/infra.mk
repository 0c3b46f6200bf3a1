# Infrastructure: Lambda builds, the CDK app (infra/), LocalStack and the
# real-binary smoke test. Included by the root Makefile (include mk/*.mk).
# See docs/deploy.md.

.PHONY: build-lambdas cdk-cli synth deploy destroy cdk-bootstrap cdk-diff seed-admin-aws \
        infra-test localstack-up localstack-down deploy-local synth-local lambda-smoke

# --- Lambda binaries ---------------------------------------------------------

GO            ?= go
LAMBDA_DIR    ?= build/lambda
LAMBDA_GOOS   ?= linux
LAMBDA_GOARCH ?= arm64
LAMBDA_TAGS   := lambda.norpc
LAMBDA_NAMES   = $(sort $(patsubst functions/%/main.go,%,$(filter-out functions/internal/%,$(wildcard functions/*/main.go))))

# One `go build` for every function: it compiles the shared packages once
# and links the binaries in parallel (-p, one per core). Go itself skips a
# binary whose build ID is current, so a warm build only checks. Each binary
# lands in $(LAMBDA_DIR)/.bin/<name> and is hard-linked to <name>/bootstrap,
# the asset directory the CDK app packages. Folders of removed functions are
# pruned.
build-lambdas: ## build every function's bootstrap for Lambda (linux/arm64) into build/lambda/<name>/
	$(call BUILD_LAMBDAS,$(LAMBDA_GOARCH),$(LAMBDA_DIR))

# $(call BUILD_LAMBDAS,goarch,dir)
define BUILD_LAMBDAS
	@set -euo pipefail; start=$$(date +%s%N); out="$(2)"; names="$(LAMBDA_NAMES)"; \
	mkdir -p "$$out/.bin"; \
	CGO_ENABLED=0 GOOS=$(LAMBDA_GOOS) GOARCH=$(1) $(GO) build -tags $(LAMBDA_TAGS) -trimpath -ldflags '-s -w' \
	  -o "$$out/.bin/" $(addprefix ./functions/,$(LAMBDA_NAMES)); \
	for n in $$names; do mkdir -p "$$out/$$n"; ln -f "$$out/.bin/$$n" "$$out/$$n/bootstrap"; done; \
	for d in "$$out"/*/; do n=$$(basename "$$d"); case " $$names " in *" $$n "*) ;; \
	  *) rm -rf "$$d" "$$out/.bin/$$n"; echo "build-lambdas: removed $$d (no functions/$$n)";; esac; done; \
	echo "build-lambdas: $(words $(LAMBDA_NAMES)) functions ($(LAMBDA_GOOS)/$(1)) in $$out in $$(( ($$(date +%s%N) - start) / 1000000 )) ms"
endef

# --- CDK ---------------------------------------------------------------------

CDK_VERSION      := 2.1148.1
CDKLOCAL_VERSION := 3.0.4
DESKLINE_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/deskline
CDK_PREFIX := $(DESKLINE_CACHE_DIR)/npm-cdk-$(CDK_VERSION)-local-$(CDKLOCAL_VERSION)
CDK        := $(CDK_PREFIX)/node_modules/.bin/cdk
CDKLOCAL   := $(CDK_PREFIX)/node_modules/.bin/cdklocal
STAGE      ?= dev
# Everything the CDK CLI and jsii need to run quietly and offline.
CDK_ENV := CDK_HOME="$(DESKLINE_CACHE_DIR)/cdk-home" CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true \
           JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 \
           PATH="$(CDK_PREFIX)/node_modules/.bin:$$PATH"
CDK_FLAGS := --no-notices -c stage=$(STAGE) $(if $(MAIL_FROM),-c mailFrom=$(MAIL_FROM)) \
             $(if $(PUBLIC_URL),-c publicUrl=$(PUBLIC_URL)) $(if $(CORS_ORIGINS),-c corsOrigins=$(CORS_ORIGINS)) \
             $(if $(ALARM_EMAIL),-c alarmEmail=$(ALARM_EMAIL))
CDK_OUTPUTS := build/cdk-outputs-$(STAGE).json

# The CLI lives in the cache, not in the repository: no node_modules here.
$(CDK) $(CDKLOCAL) &:
	@mkdir -p "$(CDK_PREFIX)" "$(DESKLINE_CACHE_DIR)/cdk-home"
	npm install --prefix "$(CDK_PREFIX)" --save-exact --no-audit --no-fund --no-update-notifier --loglevel=error \
	  aws-cdk@$(CDK_VERSION) aws-cdk-local@$(CDKLOCAL_VERSION)

cdk-cli: $(CDK) ## install the pinned CDK CLI and cdklocal into the cache (npm)

synth: build-lambdas $(CDK) ## synthesize the CloudFormation templates offline into cdk.out/ (STAGE=dev|prod)
	@start=$$(date +%s%N); $(CDK_ENV) $(CDK) synth $(CDK_FLAGS) --quiet && \
	echo "synth: $$(node -e "$$SYNTH_REPORT" $(STAGE)), $$(( ($$(date +%s%N) - start) / 1000000 )) ms"

# Sums the resources and bytes of the stage's template and its nested ones.
export SYNTH_REPORT := const fs = require("fs"), st = process.argv[1]; let n = 0, b = 0, f = 0; \
  for (const x of fs.readdirSync("cdk.out")) { \
    if (x !== "Deskline-" + st + ".template.json" && !(x.startsWith("Deskline" + st) && x.endsWith(".nested.template.json"))) continue; \
    const t = JSON.parse(fs.readFileSync("cdk.out/" + x)); n += Object.keys(t.Resources || {}).length; b += fs.statSync("cdk.out/" + x).size; f++; } \
  console.log("cdk.out/Deskline-" + st + ".template.json and " + (f - 1) + " nested templates: " + n + " resources, " + b + " bytes");

define CDK_NEEDS
	@if [ -z "$${AWS_PROFILE:-}$${AWS_ACCESS_KEY_ID:-}$${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] && \
	   [ ! -f "$${AWS_SHARED_CREDENTIALS_FILE:-$$HOME/.aws/credentials}" ] && [ ! -f "$${AWS_CONFIG_FILE:-$$HOME/.aws/config}" ]; then \
	  echo "$@ needs AWS credentials: set AWS_PROFILE (aws configure / aws sso login) or AWS_ACCESS_KEY_ID and"; \
	  echo "AWS_SECRET_ACCESS_KEY, plus AWS_REGION. Once per account and region, run: make cdk-bootstrap"; \
	  exit 1; fi
endef

cdk-bootstrap: $(CDK) ## one-time per account/region: create the CDK bootstrap stack (needs AWS credentials)
	$(CDK_NEEDS)
	$(CDK_ENV) $(CDK) bootstrap $(CDK_FLAGS)

cdk-diff: $(CDK) ## what deploy would change (needs AWS credentials)
	$(CDK_NEEDS)
	$(call BUILD_LAMBDAS,$(LAMBDA_GOARCH),$(LAMBDA_DIR))
	$(CDK_ENV) $(CDK) diff $(CDK_FLAGS)

deploy: $(CDK) ## deploy to AWS: make deploy STAGE=dev|prod MAIL_FROM=no-reply@your.domain (credentials, `make cdk-bootstrap` once)
	$(CDK_NEEDS)
	@if [ "$(STAGE)" = prod ] && [ -z "$(MAIL_FROM)" ]; then echo "deploy: STAGE=prod needs MAIL_FROM=<SES-verified sender>"; exit 1; fi
	$(call BUILD_LAMBDAS,$(LAMBDA_GOARCH),$(LAMBDA_DIR))
	@echo "deploy: stage $(STAGE). Needs: AWS credentials, a one-time 'make cdk-bootstrap' in this account/region,"
	@echo "        and an SES identity for the sender (mailFrom). Outputs go to $(CDK_OUTPUTS)."
	@mkdir -p build
	$(CDK_ENV) $(CDK) deploy $(CDK_FLAGS) --require-approval broadening --outputs-file $(CDK_OUTPUTS)

destroy: $(CDK) ## delete the stack (prod keeps its table, bucket, secret and logs)
	$(CDK_NEEDS)
	@echo "destroy: stage $(STAGE). The prod table has deletion protection and is retained with its bucket and secret."
	$(CDK_ENV) $(CDK) destroy $(CDK_FLAGS) $(if $(FORCE),--force)

seed-admin-aws: ## create the first admin in the deployed table: make seed-admin-aws STAGE=… ADMIN_EMAIL=… ADMIN_PASSWORD=…
	$(CDK_NEEDS)
	@test -f $(CDK_OUTPUTS) || { echo "seed-admin-aws: no $(CDK_OUTPUTS); run make deploy STAGE=$(STAGE) first"; exit 1; }
	@table=$$(sed -n 's/.*"TableName": *"\([^"]*\)".*/\1/p' $(CDK_OUTPUTS) | head -1); \
	test -n "$$table" || { echo "seed-admin-aws: no TableName in $(CDK_OUTPUTS)"; exit 1; }; \
	echo "seed-admin-aws: table $$table"; \
	DESKLINE_DYNAMODB_ENDPOINT= DESKLINE_TABLE="$$table" $(GO) run ./localstack/cmd/seed-admin

# Infra tests: their own module (infra/go.work adds the root module, so a
# new root dependency needs no edit in infra/go.mod). They synthesize with
# dummy assets, so they need no Lambda build; TestCdklocalSynth runs the
# cdklocal CLI (installed into the cache by cdk-cli).
infra-test: $(CDK) ## CDK assertions on the synthesized templates, and cdklocal synth
	cd infra && DESKLINE_CDKLOCAL="$(CDKLOCAL)" CDK_HOME="$(DESKLINE_CACHE_DIR)/cdk-home" \
	  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(GO) test -count=1 ./...

# --- LocalStack (needs Docker) -----------------------------------------------

# Compose v2 (docker compose) or the older docker-compose.
COMPOSE_SH := compose() { if docker compose version >/dev/null 2>&1; then docker compose -f localstack/docker-compose.yml "$$@"; \
  elif command -v docker-compose >/dev/null; then docker-compose -f localstack/docker-compose.yml "$$@"; \
  else echo "LocalStack needs Docker Compose (docker compose or docker-compose)"; return 1; fi; }

localstack-up: ## start LocalStack in Docker (pinned 4.14.0; LOCALSTACK_IMAGE=… with LOCALSTACK_AUTH_TOKEN for current images)
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "localstack-up needs a running Docker daemon"; exit 1; }
	@mkdir -p "$(DESKLINE_CACHE_DIR)/localstack"
	@$(COMPOSE_SH); LOCALSTACK_VOLUME_DIR="$(DESKLINE_CACHE_DIR)/localstack" compose up -d --wait
	@echo "LocalStack on http://127.0.0.1:4566. Run the local cloud on it: DESKLINE_BACKEND=localstack DESKLINE_DYNAMODB_ENDPOINT=http://localhost:4566 make dev"

localstack-down: ## stop LocalStack
	@$(COMPOSE_SH); compose down

# cdklocal points the CDK CLI at LocalStack (http://localhost:4566 unless
# AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_S3 are both set) with test
# credentials; it drops other AWS_* variables, so it cannot reach AWS.
CDKLOCAL_ENV := $(CDK_ENV)

# LocalStack runs Lambda containers of the host's architecture: deploy-local
# builds for it into build/lambda-local and tells the stack so.
HOST_GOARCH       = $(shell $(GO) env GOARCH)
HOST_LAMBDA_ARCH  = $(if $(filter arm64,$(HOST_GOARCH)),arm64,x86_64)
LOCAL_LAMBDA_DIR := build/lambda-local
CDKLOCAL_FLAGS    = $(CDK_FLAGS) -c assetDir=$(LOCAL_LAMBDA_DIR) -c architecture=$(HOST_LAMBDA_ARCH)

deploy-local: $(CDKLOCAL) ## deploy the whole stack into LocalStack (needs Docker and LOCALSTACK_AUTH_TOKEN)
	@test -n "$${LOCALSTACK_AUTH_TOKEN:-}" || { echo "deploy-local needs LOCALSTACK_AUTH_TOKEN: the free LocalStack has no API Gateway v2."; \
	  echo "Without a token use: make localstack-up, then DESKLINE_BACKEND=localstack DESKLINE_DYNAMODB_ENDPOINT=http://localhost:4566 make dev"; exit 1; }
	$(call BUILD_LAMBDAS,$(HOST_GOARCH),$(LOCAL_LAMBDA_DIR))
	$(CDKLOCAL_ENV) $(CDKLOCAL) bootstrap $(CDKLOCAL_FLAGS)
	@mkdir -p build
	$(CDKLOCAL_ENV) $(CDKLOCAL) deploy $(CDKLOCAL_FLAGS) --require-approval never --outputs-file build/cdk-outputs-local.json

synth-local: $(CDKLOCAL) ## cdklocal synth of what deploy-local deploys, offline, into build/cdk.out.local
	$(call BUILD_LAMBDAS,$(HOST_GOARCH),$(LOCAL_LAMBDA_DIR))
	$(CDKLOCAL_ENV) $(CDKLOCAL) synth $(CDKLOCAL_FLAGS) --quiet -o build/cdk.out.local

# --- Real binaries through the Lambda Runtime Interface Emulator -------------

lambda-smoke: ## build every function for this machine and invoke each through aws-lambda-rie (FN=regexp, COLD=n starts each)
	$(GO) run ./localstack/cmd/lambda-smoke $(if $(FN),-run '$(FN)') $(if $(COLD),-cold $(COLD))
