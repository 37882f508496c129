# Detour's developer entry points. Everything installs into local virtual environments:
# nothing needs to be installed by hand beyond Python 3.11+ and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
UV_VERSION := 0.13.8
BIN := $(VENV)/bin
export SAM_CLI_TELEMETRY := 0

.PHONY: help test lint pytest build bench lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

test: lint pytest build ## Everything CI runs: ruff, cfn-lint, pytest, sam build
	@echo "make test: all checks passed"

lint: $(VENV)/.installed ## ruff (lint + format check) and cfn-lint on the template
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml

pytest: $(VENV)/.installed ## The test suite (moto, no AWS account needed)
	$(BIN)/pytest $(PYTEST_ARGS)

build: $(SAM_VENV)/.installed ## sam build into .aws-sam/ (no container, no Python 3.12 needed)
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$(CURDIR)/$(VENV)/bin:$$PATH" $(SAM_VENV)/bin/sam build

bench: $(VENV)/.installed ## Cold-start import benchmark: handler import vs bare boto3
	$(BIN)/python scripts/bench_imports.py

lock: $(VENV)/.installed ## Re-pin requirements/*.txt from requirements/*.in
	$(BIN)/uv pip compile --universal --python-version 3.11 -q requirements/dev.in -o requirements/dev.txt
	$(BIN)/uv pip compile --universal --python-version 3.11 -q requirements/sam.in -o requirements/sam.txt

clean: ## Remove environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .hypothesis

# uv comes from PyPI through pip; it then installs the pinned set in seconds.
$(VENV)/.installed: requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Detour needs Python 3.11 or newer (found " + sys.version.split()[0] + "); run make PYTHON=python3.12 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements/dev.txt
	touch $@

# SAM CLI pins boto3 and others exactly: it gets an environment of its own.
$(SAM_VENV)/.installed: requirements/sam.txt $(VENV)/.installed
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(BIN)/uv pip sync --quiet --python $(SAM_VENV)/bin/python requirements/sam.txt
	touch $@
