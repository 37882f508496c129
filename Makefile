# Detour's developer entry points. Everything installs into local virtual environments:
# nothing needs to be installed by hand beyond Python 3.11+ and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
# Two pytest workers, each taking whole test files (their fixtures and servers stay theirs): the
# suite waits on sockets and clocks more than it computes, so two halve its time on a 2-core machine.
# PYTEST_WORKERS= (empty) runs it in one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile
SAM_VENV := .venv-sam
UV_VERSION := 0.13.8
BIN := $(VENV)/bin
export SAM_CLI_TELEMETRY := 0

.PHONY: help demo test lint typecheck pytest build bench lock clean edge-test chromium screenshot

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

demo: $(VENV)/.installed ## Rehearse a whole outage locally: no AWS account, no Docker (DEMO_ARGS=--help)
	$(BIN)/detour demo $(DEMO_ARGS)

test: lint typecheck edge-test pytest build ## Everything CI runs: ruff, cfn-lint, mypy, node --test, pytest, sam build
	@echo "make test: all checks passed"

lint: $(VENV)/.installed ## ruff (lint + format check) and cfn-lint on the hub and site templates
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/cfn-lint sites/site.yaml

typecheck: $(VENV)/.installed ## mypy (strict) on the layer, the functions and the CLI (config: pyproject.toml)
	$(BIN)/mypy

pytest: $(VENV)/.installed chromium ## The test suite (moto, headless Chromium; no AWS account needed)
	$(BIN)/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

build: $(SAM_VENV)/.installed ## sam build into .aws-sam/ (no container, no Python 3.12 needed)
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$(CURDIR)/$(VENV)/bin:$$PATH" $(SAM_VENV)/bin/sam build

bench: $(VENV)/.installed ## Benchmarks: cold-start imports, page size, cost per event vs history, the storm, Slack's ack, the sweep vs sites
	$(BIN)/python scripts/bench_imports.py
	$(BIN)/python scripts/bench_cost.py
	$(BIN)/python scripts/bench_storm.py
	$(BIN)/python scripts/bench_ack.py
	$(BIN)/python scripts/bench_sweep.py

edge-test: $(VENV)/.installed ## The CloudFront Functions in edge/, on CloudFront-shaped events (node --test)
	$(BIN)/node --test edge/*.test.mjs

# The browser test drives Debian's chromium; browsers are never downloaded (no `playwright install`).
CHROMIUM ?= /usr/bin/chromium
chromium: ## Install Debian's chromium for the browser test if missing (apt-get, as root)
	@test -x "$(CHROMIUM)" && exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make chromium: $(CHROMIUM) is missing; as root run: apt-get update && apt-get install -y chromium" >&2; exit 1; \
	fi; \
	echo "installing chromium with apt-get (the maintenance page's browser test needs it)"; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
		|| { echo "make chromium: apt-get could not install chromium; the browser test cannot run without it" >&2; exit 1; }; \
	test -x "$(CHROMIUM)" || { echo "make chromium: chromium installed but $(CHROMIUM) is missing" >&2; exit 1; }

screenshot: $(VENV)/.installed chromium ## Refresh docs/maintenance-page.png from the browser test
	DETOUR_UPDATE_SCREENSHOT=1 DETOUR_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -q tests/page/test_page_browser.py

lock: $(VENV)/.installed ## Re-pin requirements/*.txt from requirements/*.in
	$(BIN)/uv pip compile --universal --python-version 3.11 -q requirements/dev.in -o requirements/dev.txt
	$(BIN)/uv pip compile --universal --python-version 3.11 -q requirements/sam.in -o requirements/sam.txt

clean: ## Remove environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache .hypothesis rehearsal-output

# uv comes from PyPI through pip; it then installs the pinned set in seconds.
$(VENV)/.installed: requirements/dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Detour needs Python 3.11 or newer (found " + sys.version.split()[0] + "); run make PYTHON=python3.12 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements/dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# SAM CLI pins boto3 and others exactly: it gets an environment of its own.
$(SAM_VENV)/.installed: requirements/sam.txt $(VENV)/.installed
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(BIN)/uv pip sync --quiet --python $(SAM_VENV)/bin/python requirements/sam.txt
	touch $@
