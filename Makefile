# `make run` and `make test` set everything up on a fresh machine (Python 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The worker on embedded defaults: SQLite and a Temporal dev server under .data/, RabbitMQ at
## AMQP_URL, and the HTTP API and console on http://127.0.0.1:8000 (/docs, /console).
run: install
	$(BIN)/python -m worker dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -q tests/unit

## Everything CI runs: services and the console tests' browser up, lint, types, the whole
## suite, the benchmark's quick mode.
test: install lint
	scripts/ensure-services
	scripts/ensure-chromium
	$(BIN)/python -m bench all --quick --out .data/bench-quick.json
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=30

## The full benchmark (a few minutes); see docs/performance.md.
bench: install
	scripts/ensure-services
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) .data .mypy_cache .ruff_cache .pytest_cache
