# Conveyor developer commands; `make` alone lists them. Details: docs/running.md
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST_ARGS ?=
SERVICE ?=

.PHONY: help setup venv up down status logs test bench lint schema clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  \033[36m%-8s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## venv + PostgreSQL + RabbitMQ running, database and vhost created, migrations applied
	@bash scripts/setup.sh

venv: ## only create/refresh .venv from requirements.lock + requirements-dev.lock
	@bash scripts/setup.sh venv

up: setup ## setup, then S3 and every service as local processes, detached; returns when all are ready (SCALE="echo=2 docrender=2")
	@$(PY) scripts/cluster.py up

down: ## stop the services and the local S3 endpoint
	@$(PY) scripts/cluster.py down

status: ## show each local process
	@$(PY) scripts/cluster.py status

logs: ## follow the logs (SERVICE=gateway for one)
	@$(PY) scripts/cluster.py logs $(SERVICE)

# Lint first: a type error or an architecture rule broken fails before the slow tests start.
# pytest exits 5 when it collected no tests: that is a failure here, and said so.
test: setup lint ## lint (ruff, mypy), then the tests (PYTEST_ARGS="-k name -x" to narrow)
	@$(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

bench: setup ## run the benchmarks (bench/)
	$(PY) -m bench

lint: venv ## ruff + mypy (strict: services, libs, proto, bench, scripts)
	$(PY) -m ruff check .
	$(PY) -m mypy

schema: venv ## regenerate the events schema from proto/
	$(PY) -m proto.schema

clean: ## stop the local cluster, remove .run/ and caches (keeps .venv)
	@if [ -x $(PY) ]; then $(PY) scripts/cluster.py down; fi
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
