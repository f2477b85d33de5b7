# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint typecheck pytest bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,fast]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/xmargin demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest -q -n 2

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/core.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
