"""The perp modules' docstring examples run (style guide 13), and each module exports only
names it defines or imports (style guide 11)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "xmargin.model.perps",
    "xmargin.io.perp_tables",
    "xmargin.risk.perps",
    "xmargin.risk.settlement",
    "xmargin.risk.trading",
    "xmargin.risk.insurance",
    "xmargin.risk.perp_liquidation",
    "xmargin.risk.liquidation_price",
    "xmargin.ledger.perps",
    "xmargin.cli.perp_commands",
    "xmargin.cli.perp_render",
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
    assert found >= 8
