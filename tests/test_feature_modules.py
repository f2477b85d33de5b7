"""The modules of each feature (perps, options, liquidation designs): their docstring
examples run (style guide 13), and each exports only names it defines or imports (style
guide 11)."""

from __future__ import annotations

import doctest
import importlib

import pytest

#: The modules of each feature, and how many docstring examples they hold at least.
FEATURES: dict[str, tuple[list[str], int]] = {
    "perps": (
        [
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
        ],
        8,
    ),
    "options": (
        [
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
        ],
        10,
    ),
    "liquidation designs": (
        [
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
        ],
        15,
    ),
}
MODULES = [m for modules, _ in FEATURES.values() for m in modules]


def _examples(module: str) -> doctest.TestResults:
    return doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    assert _examples(module).failed == 0


@pytest.mark.parametrize("module", MODULES)
def test_the_module_exports_only_names_it_defines_or_imports(module: str) -> None:
    mod = importlib.import_module(module)
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"{module} has no __all__"
    assert [n for n in exported if not hasattr(mod, n)] == []


@pytest.mark.parametrize("feature", FEATURES)
def test_the_examples_are_there_to_run(feature: str) -> None:
    modules, least = FEATURES[feature]
    assert sum(_examples(m).attempted for m in modules) >= least
