"""The liquidation-design modules' docstring examples run (style guide 13), and each module
exports only names it defines or imports (style guide 11)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "xmargin.liquidation_errors",
    "xmargin.model.liquidation_params",
    "xmargin.model.auction",
    "xmargin.io.design_state",
    "xmargin.risk.market_clock",
    "xmargin.risk.target_health",
    "xmargin.risk.auction_curves",
    "xmargin.risk.auction",
    "xmargin.risk.storefront",
    "xmargin.risk.socialized_loss",
    "xmargin.risk.adl",
    "xmargin.ledger.auctions",
    "xmargin.ledger.storefront",
    "xmargin.ledger.loss_waterfall",
    "xmargin.cli.liquidation_design_commands",
    "xmargin.cli.liquidation_design_render",
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
    assert found >= 15


def test_the_errors_module_re_exports_the_design_errors() -> None:
    import xmargin.errors as errors
    import xmargin.liquidation_errors as design

    for name in design.__all__:
        assert name in errors.__all__
        assert getattr(errors, name) is getattr(design, name)
