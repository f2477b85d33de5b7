"""Option accounts in a scenario: valued with their options, exactly, as ``stress`` does.

The liquidation engine values options in float (:mod:`xmargin.analytics.simoptions`,
standard margin for every account) and liquidates them (6.5). Each scenario also
reports the accounts that hold an option with every figure of contract 2 and 6.2/6.3
(:func:`~xmargin.risk.health.account_health`) at the scenario's end prices and with its
volatility shocks (``vol_shock = {WETH = "+50%"}``: σ → σ·(1 + x), floored at 0, by
:func:`~xmargin.risk.options.with_vol_shocks`) — before any liquidation, which is what
``stress --shock ... --vol-shock ...`` computes for them.

End prices: a scenario made of ``shocks`` alone moves prices exactly as ``stress`` does
(price × (1 + shock), in Decimal); any other (correlated moves, de-pegs, replays) ends at
the float path's last prices, read through their shortest repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.scenario_file import Scenario
from xmargin.analytics.stress import StressSummary, summarize
from xmargin.errors import UnknownAsset
from xmargin.mathlib import ZERO, exact
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth, account_health
from xmargin.risk.options import with_vol_shocks
from xmargin.risk.shocks import shocked_prices

__all__ = ["ScenarioOptions", "scenario_end_prices", "scenario_options"]


@dataclass(frozen=True)
class ScenarioOptions:
    """The option accounts of a market, before and after one scenario (values in quote).

    ``accounts``: each option account's figures after the scenario; ``summary``: their
    ``stress`` summary; ``option_value_before``/``after``: Σ mtm over them."""

    prices: dict[str, Decimal]
    vol_shocks: Mapping[str, Decimal]
    accounts: list[tuple[str, AccountHealth]]
    summary: StressSummary
    option_value_before: Decimal
    option_value_after: Decimal
    liquidatable_before: int
    before: list[tuple[str, AccountHealth]] = field(default_factory=list)


def _only_shocks(sc: Scenario) -> bool:
    return sc.replay is None and sc.correlated is None and not sc.depeg


@exact
def scenario_end_prices(
    market: Market, sc: Scenario, assets: tuple[str, ...], end: NDArray[np.float64]
) -> dict[str, Decimal]:
    """Every asset's price at the end of ``sc`` (module docstring): exact for a scenario
    of shocks alone, else ``end`` (the path's last prices, by ``assets``)."""
    today = {a: p.price for a, p in market.assets.items()}
    if _only_shocks(sc):
        return {**today, **shocked_prices(today, sc.shocks, f"scenario {sc.name} shocks")}
    moved = {a: Decimal(repr(float(x))) for a, x in zip(assets, end, strict=True)}
    return {a: moved.get(a, p) for a, p in today.items()}


@exact
def scenario_options(
    market: Market, sc: Scenario, assets: tuple[str, ...], end: NDArray[np.float64]
) -> ScenarioOptions | None:
    """The option accounts of ``market`` under ``sc`` (``end``: the scenario's last
    exogenous prices, by ``assets``); ``None`` when no account holds an option. A
    volatility shock on an asset the market does not list is refused
    (:class:`~xmargin.errors.UnknownAsset`), options or not."""
    for asset in sc.vol_shocks:
        if asset not in market.assets:
            raise UnknownAsset(asset, "vol_shock")
    prices = scenario_end_prices(market, sc, assets, end)
    after_market = market.with_prices(prices)  # then σ, in stress's order
    if sc.vol_shocks:
        after_market = with_vol_shocks(after_market, sc.vol_shocks)
    ids = [a for a, acc in market.accounts.items() if acc.options]
    if not ids:
        return None
    before = [(a, account_health(market.accounts[a], market)) for a in ids]
    after = [(a, account_health(after_market.accounts[a], after_market)) for a in ids]
    return ScenarioOptions(
        prices=prices,
        vol_shocks=dict(sc.vol_shocks),
        accounts=after,
        summary=summarize(after),
        option_value_before=sum((h.option_value for _, h in before), ZERO),
        option_value_after=sum((h.option_value for _, h in after), ZERO),
        liquidatable_before=sum(1 for _, h in before if h.liquidatable),
        before=before,
    )
