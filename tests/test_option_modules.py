"""The option modules' docstring examples run (style guide 13), each module exports only
names it defines or imports (style guide 11), and no source file passes ~450 lines."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import xmargin

MODULES = [
    "xmargin.model.options",
    "xmargin.model.portfolio_params",
    "xmargin.option_errors",
    "xmargin.io.option_tables",
    "xmargin.risk.black76",
    "xmargin.risk.options",
    "xmargin.risk.option_margin",
    "xmargin.risk.portfolio_margin",
    "xmargin.risk.option_trading",
    "xmargin.risk.option_liquidation",
    "xmargin.risk.option_liquidation_price",
    "xmargin.risk.greeks",
    "xmargin.ledger.options",
    "xmargin.cli.option_render",
    "xmargin.cli.greeks_commands",
]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("module", MODULES)
def test_the_module_exports_only_names_it_defines_or_imports(module: str) -> None:
    mod = importlib.import_module(module)
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"{module} has no __all__"
    assert [n for n in exported if not hasattr(mod, n)] == []


def test_the_examples_are_there_to_run() -> None:
    found = sum(
        doctest.testmod(importlib.import_module(m), optionflags=doctest.ELLIPSIS).attempted
        for m in MODULES
    )
    assert found >= 10


@pytest.mark.parametrize("module", MODULES)
def test_the_option_modules_stay_readable(module: str) -> None:
    path = Path(importlib.import_module(module).__file__ or "")
    assert path.is_relative_to(Path(xmargin.__file__).parent)
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450
