# readq: `make install`, then `make dev` (run it locally) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install dev test test-unit lint typecheck up down clean

install: $(BIN)/readq

$(BIN)/readq: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

dev: install
	$(BIN)/readq dev

test: install
	$(BIN)/pytest -q -p no:cacheprovider

test-unit: install
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

lint: install
	$(BIN)/ruff check readq config tasks workers tests benchmarks
	$(BIN)/mypy

up:
	docker compose up -d --build

down:
	docker compose down

clean:
	rm -rf $(VENV) .readq
