# Linli: `make run` starts the stack on this machine, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SERVICES := registry points fund notify
PACKAGES := -e shared $(foreach s,$(SERVICES) console,-e services/$(s))
STAMP := $(VENV)/.installed
# Tests mostly wait on PostgreSQL and NATS, so more workers than cores pay; a file's tests share a worker.
TEST_WORKERS ?= 4
PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: run test test-unit test-integration test-e2e test-cluster test-browser cluster test-compose lint fmt bench bench-scale shape up down venv clean

venv: $(STAMP)

$(STAMP): constraints.txt requirements-dev.txt shared/pyproject.toml $(foreach s,$(SERVICES) console,services/$(s)/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip -c constraints.txt
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet $(PACKAGES) -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/linli run

# The slower tiers (cluster, browser, compose) have targets of their own, which .ci/run also runs.
test: $(STAMP)
	$(BIN)/pytest $(PARALLEL) -m "not cluster and not browser"

test-unit: $(STAMP)
	$(BIN)/pytest $(PARALLEL) -m "not integration and not e2e and not cluster and not browser"

test-integration: $(STAMP)
	$(BIN)/pytest $(PARALLEL) -m integration

test-e2e: $(STAMP)
	$(BIN)/pytest $(PARALLEL) -m e2e

# One test at a time: each starts its own 3-node cluster, district leaf node and service replicas.
test-cluster: $(STAMP)
	$(BIN)/pytest -p no:xdist -m cluster tests/cluster $(if $(CLUSTER_JUNIT),--junitxml=$(CLUSTER_JUNIT))

# Debian's Chromium (apt-get install chromium fonts-noto-cjk) through each role's day in 邻里工作台,
# at phone and desktop sizes, on SQLite and PostgreSQL; screenshots in var/browser/.
test-browser: $(STAMP)
	$(BIN)/pytest -p no:xdist -m browser tests/browser $(if $(BROWSER_JUNIT),--junitxml=$(BROWSER_JUNIT))

# The city hub (3 nodes), district "north" as a leaf, two replicas of each service on PostgreSQL
# (LINLI_TEST_PG_URL); Ctrl-C stops it all.
cluster: $(STAMP)
	$(BIN)/python -m tests.cluster

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# `make bench ROWS=residents,credits JSON=var/bench.json`: some rows, figures also as JSON.
# The HTTP rows load the services with wrk (apt-get install wrk); without it they are skipped.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.bench $(if $(ROWS),--rows $(ROWS)) $(if $(JSON),--json $(JSON))

# The registry at LINLI_BENCH_SCALE_RESIDENTS (1,000,000) residents on the PostgreSQL of LINLI_TEST_PG_URL.
bench-scale: $(STAMP)
	$(BIN)/python -m tests.bench.scale

shape: $(STAMP)
	$(BIN)/python tools/shape.py

# Prefer Compose v2 where it exists; Debian has only docker-compose 1.29 (the file suits both).
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

# The compose stack for real on a private Docker engine (root; apt-get install -y docker.io docker-compose debootstrap).
test-compose: $(STAMP)
	$(BIN)/python -m tests.compose.run

up:
	$(COMPOSE) up --build

down:
	$(COMPOSE) down

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
