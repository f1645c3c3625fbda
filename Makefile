# Storeplane: `make up` starts the whole platform, `make test` runs every test.
# Both install what is missing on a fresh machine first (see `make deps`).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
CACHE ?= $(HOME)/.cache/storeplane
UV_VERSION := 0.13.9
UV := $(CACHE)/uv-$(UV_VERSION)/bin/uv
PY := $(UV) run --locked python

.PHONY: help deps dashboard up test lint unit integration replay bench bench-tenants cluster-up cluster-down cluster-status cluster-bin

help:
	@echo "make up             start NATS, Postgres, the local Kubernetes cluster and the services"
	@echo "make test           lint, type-check, the dashboard's component tests, unit, integration, end-to-end and browser tests"
	@echo "make replay         rebuild the read models from the stream (beside the live ones) and compare"
	@echo "make bench          speed, each figure beside its baseline from the same run (bench/results/)"
	@echo "make bench-tenants  STORES=1000 stores on the local cluster, the figures that grow with them"
	@echo "make cluster-up     start (building once) the local Kubernetes control plane"
	@echo "make cluster-down   stop it and remove its state"
	@echo "make cluster-status what runs"

$(UV):
	python3 -m venv $(CACHE)/uv-$(UV_VERSION)
	$(CACHE)/uv-$(UV_VERSION)/bin/pip install --quiet uv==$(UV_VERSION)

DASHBOARD := services/dashboard

# System packages (PostgreSQL server, openssl, Chromium), the project's virtualenv from uv.lock, and the
# dashboard's npm packages from its package-lock.json (again only when the lock is newer than node_modules).
deps: $(UV) $(DASHBOARD)/node_modules/.package-lock.json
	@bash infra/install-system-deps.sh
	@$(UV) sync --locked --quiet

$(DASHBOARD)/node_modules/.package-lock.json: $(DASHBOARD)/package-lock.json
	npm --prefix $(DASHBOARD) ci --no-audit --no-fund
	@touch $@

# The dashboard's build (services/dashboard/dist/), which the gateway serves at /.
dashboard: deps
	npm --prefix $(DASHBOARD) run build

cluster-up: deps
	python3 infra/cluster/cluster.py up

cluster-down:
	python3 infra/cluster/cluster.py down

cluster-status:
	python3 infra/cluster/cluster.py status

cluster-bin:
	@python3 infra/cluster/cluster.py bin

up: dashboard
	$(PY) -m infra.local.up

# With `make up` running: replay the STORES stream into a second database and compare.
REPLAY_PG := postgresql://storeplane@127.0.0.1:$(or $(STOREPLANE_POSTGRES_PORT),5433)
# It reads the stream as the read-only NATS user `reader`, whose password `make up` keeps in .storeplane/secrets/.
replay: deps
	STOREPLANE_NATS_USER=reader STOREPLANE_NATS_PASSWORD="$$(cat .storeplane/secrets/nats-reader.password)" \
	$(PY) -m storeplane_status.replaying --nats-url nats://127.0.0.1:$(or $(STOREPLANE_NATS_PORT),4222) \
	  --into $(REPLAY_PG)/storeplane_replay --compare-with $(REPLAY_PG)/storeplane

lint: deps
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy
	$(UV) run --locked lint-imports

# Unit tests need Helm alone (the chart tests), not the control plane: built once, in minutes less.
unit: deps
	python3 infra/cluster/cluster.py helm >/dev/null
	$(UV) run --locked pytest tests/unit

# Its own NATS, Postgres and services on loopback (and the local cluster): the table of figures beside their
# same-run baselines, written to bench/results/<date>.md; exits 1 on a ratio 20% below the last committed one.
# Not part of `make test`. docs/performance.md says what each row measures.
bench: deps
	$(PY) -m bench

# A large tenant base: STORES stores on a local cluster of its own with NODES kwok nodes (a kwok node takes
# 110 pods; a ready store keeps 2), then list latency, projection lag, apiserver requests per store,
# provisioner memory, drift-check time; bench/results/tenants-<date>.md. Its cluster (on its own ports) is
# removed at the end. docs/performance.md#a-large-tenant-base says what it found.
STORES ?= 1000
NODES ?= 20
bench-tenants: deps
	STOREPLANE_CLUSTER_DIR=$(CACHE)/tenants-cluster STOREPLANE_CLUSTER_NODES=$(NODES) \
	STOREPLANE_CLUSTER_API_PORT=16643 STOREPLANE_CLUSTER_ETCD_PORT=16379 STOREPLANE_CLUSTER_KWOK_PORT=16247 \
	$(PY) -m bench.tenants --own-cluster --stores $(STORES)

integration: deps
	$(UV) run --locked pytest tests/integration tests/e2e

# The dashboard's component tests (Vitest) first, then every pytest tier, the browser tests among them.
test: lint dashboard
	npm --prefix $(DASHBOARD) test
	python3 infra/cluster/cluster.py bin >/dev/null
	$(UV) run --locked pytest
