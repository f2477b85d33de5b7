# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-cli test install lint typecheck pytest bench clean clean-kernels

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# `make demo`: the engine as a service (xmargin demo). It starts `xmargin serve` on the
# embedded SQLite default (a temporary folder) with the packaged demo market, creates one
# key per role, replays the packaged ETH crash path through POST /v1/prices so that risk
# events and liquidations happen, checks the journal with a replay, prints where to look
# and stops the server (5–15 s here; `xmargin demo --keep-running` leaves it up).
demo: install
	$(BIN)/xmargin demo

# The command-line walk-through over the same demo market (nothing is written).
DEMO := src/xmargin/data/demo.toml

demo-cli: install
	@echo '$$ xmargin check $(DEMO)'
	@$(BIN)/xmargin check $(DEMO)
	@echo; echo '$$ xmargin health $(DEMO)'
	@$(BIN)/xmargin health $(DEMO)
	@echo; echo '$$ xmargin stress $(DEMO) --shock WETH=-30%'
	@$(BIN)/xmargin stress $(DEMO) --shock WETH=-30%
	@echo; echo '$$ xmargin liquidation-price $(DEMO) --account eth-levered --asset WETH'
	@$(BIN)/xmargin liquidation-price $(DEMO) --account eth-levered --asset WETH
	@echo; echo '$$ xmargin liquidate $(DEMO) --account eth-underwater --debt USDC --collateral WETH --max --json'
	@$(BIN)/xmargin liquidate $(DEMO) --account eth-underwater --debt USDC --collateral WETH --max --json

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

# Slow scale tests run in CI (CI=true) and with `make test SLOW=1`; skipped otherwise.
PYTEST_MARK := $(if $(or $(CI),$(SLOW)),,-m "not slow")

# The CLI tests run a second time on the NumPy kernels, as a platform without Numba runs
# them (XMARGIN_BACKEND=numpy: Numba is never imported), so the fallback cannot rot.
pytest: install
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_MARK)
	XMARGIN_BACKEND=numpy $(BIN)/python -m pytest -q -n 2 $(PYTEST_MARK) tests/cli

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/core.py

clean: clean-kernels
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache

# Numba caches each kernel keyed on its own file only: after editing a rule of
# src/xmargin/fast/ (or any function a kernel calls from another file), drop them.
clean-kernels:
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete
