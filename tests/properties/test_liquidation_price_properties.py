"""Invariants of the liquidation price (contract 4 ``liquidation-price``).

LP-1  Re-pricing the asset to the returned price gives a health factor within 1e-12 of 1.
LP-2  The price is rounded toward danger (it warns no later than the exact one): at the
      returned price the account is not yet liquidatable, up to the rounding of the sums.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import event, given
from hypothesis import strategies as st

from tests.strategies import indebted_accounts
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.liquidation_price import liquidation_price


def exposure(market: Market, account: str, data: st.DataObject) -> str:
    acc = market.accounts[account]
    return data.draw(st.sampled_from(sorted(set(acc.supply) | set(acc.borrow))), label="asset")


@given(indebted_accounts(), st.data())
def test_LP_1_repricing_to_the_liquidation_price_gives_health_one(
    pair: tuple[Market, str], data: st.DataObject
) -> None:
    """LP-1: re-pricing the asset to the returned price gives a health factor within
    1e-12 of 1 (prices of at least 1e-6: the price is held to 18 places, so below that
    its own last place moves health by more than 1e-12)."""
    market, account = pair
    asset = exposure(market, account, data)
    lp = liquidation_price(market, account, asset)
    assert lp.current_price == market.assets[asset].price
    if lp.price is None:
        event("no liquidation price")
        assert lp.change is None
        return
    assert lp.price > 0
    if lp.price < Decimal("1e-6"):
        event("price below 1e-6")
        return
    event("price found")
    h = account_health(market.accounts[account], market.with_prices({asset: lp.price}))
    assert h.health_factor is not None
    assert abs(h.health_factor - 1) <= Decimal("1e-12")
    assert lp.change is not None
    assert abs(lp.change - (lp.price / lp.current_price - 1)) <= Decimal("1e-18")


@given(indebted_accounts(), st.data())
def test_LP_2_the_price_warns_no_later_than_the_exact_one(
    pair: tuple[Market, str], data: st.DataObject
) -> None:
    """LP-2: the returned price is rounded toward danger (up for a net collateral, down
    for a net debt), so re-priced there the account is not yet liquidatable: mc >= md up
    to the 18-place rounding of the two sums."""
    market, account = pair
    asset = exposure(market, account, data)
    lp = liquidation_price(market, account, asset)
    if lp.price is None:
        return
    h = account_health(market.accounts[account], market.with_prices({asset: lp.price}))
    assert h.maintenance_collateral >= h.maintenance_debt - Decimal("2e-18")
