# The verbs people type. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv is installed from PyPI when missing and run as `python3 -m uv`.
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV := .venv
DIALOG := $(VENV)/bin/dialog
# The slowest tests are listed at the end of every run, so a suite growing slow shows where.
PYTEST_ARGS ?= --durations=30

.PHONY: help setup run run-distributed test lint typecheck bench clean settings-reference speech

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-16s %s\n", $$1, $$2}'

setup: ## install uv, the system packages, the workspace into .venv and axe-core (npm)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@bash scripts/system-packages.sh
	@# Compiled once here: where PYTHONDONTWRITEBYTECODE is set (containers, this CI), every start
	@# would compile every module again: `dialog run` took 4 s to be ready instead of 2, and
	@# 8 MB more memory. Sources that change are compiled again in memory, as always.
	@$(UV) sync --frozen --all-packages --quiet --compile-bytecode
	@$(VENV)/bin/python -m compileall -q -j 2 libs/platform/src libs/contracts/src services/*/src
	@[ -f node_modules/axe-core/axe.min.js ] || npm ci --no-audit --no-fund --silent
	@echo "setup done: $(DIALOG)"

run: setup ## start the whole system in one process (booth UI, dashboard, all services)
	@$(DIALOG) run

run-distributed: setup ## start each service as its own process on RabbitMQ, nx-27017 and moto S3
	@$(VENV)/bin/python -m dialog_platform.testing.distributed

lint: setup ## ruff and mypy
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy libs/contracts/src libs/platform/src services/*/src bench

test: lint ## lint, types, then every test against real servers
	@$(VENV)/bin/pytest $(PYTEST_ARGS)

settings-reference: setup ## regenerate README's settings reference from the settings classes
	@$(VENV)/bin/python scripts/settings-reference.py

speech: setup ## render the booth's spoken prompts (espeak-ng, kk and ru) into data/speech
	@$(VENV)/bin/python -m kiosk_gateway.speech

bench: setup ## benchmarks: print figures and ratios (end to end, upload, notify, inbox, faults)
	@$(VENV)/bin/python bench/e2e.py --mode distributed --rates 1,3,10 --seconds 20 --real-rates 3 --real-seconds 10
	@$(VENV)/bin/python bench/e2e.py --mode one-process --rates 1,3,10 --seconds 20
	@$(VENV)/bin/python bench/e2e.py --mode one-process --rates 3 --seconds 330 --answer-share 0
	@$(VENV)/bin/python bench/upload.py --concurrent 10
	@$(VENV)/bin/python bench/notify.py
	@$(VENV)/bin/python bench/restart.py
	@$(VENV)/bin/python bench/inbox.py
	@$(VENV)/bin/python bench/faults.py --appeals 400 --kill-every 1-3 --broker --kills 24

clean: ## remove the venv, caches and local data
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data
