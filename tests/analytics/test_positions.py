"""The dashboard's book-wide columns, through the float rule source, equal the exact engine.

POS-1  column_sums (the float twin xmargin.fast.health.weighted_sums over the columns)
       equals account_health's six sums for every account.
POS-2  liquidation_prices (the float twin xmargin.fast.liquidation_price) equals
       liquidation_price (None exactly where NaN) for every account and asset.
POS-3  classify gives every account the status the exact figures give.
POS-4  refresh after changes equals a fresh build (only replaced accounts are re-read).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import make_market
from tests.strategies import markets
from xmargin.analytics.overview import STATUSES, classify, status_of, sums_of
from xmargin.analytics.positions import COLUMNS, PositionColumns, liquidation_prices
from xmargin.model import Market
from xmargin.model.account import Account
from xmargin.risk.health import account_health
from xmargin.risk.liquidation_price import liquidation_price

REL = 1e-9
W = {"collateral_factor": "0.8", "liquidation_threshold": "0.85", "liquidation_bonus": "0.05"}


def two_assets(**accounts: dict[str, dict[str, int]]) -> Market:
    """WETH at 2000 and USDC at 1, both cf 0.8, lt 0.85."""
    return make_market(
        assets={"WETH": {"price": 2000, **W}, "USDC": {"price": 1, "decimals": 6, **W}},
        accounts=accounts,
    )


def close(a: float, b: Decimal, scale: float) -> bool:
    return abs(a - float(b)) <= REL * max(scale, abs(float(b))) + 1e-12


@given(markets())
def test_POS_1_column_sums_equal_the_exact_figures(market: Market) -> None:
    cols = PositionColumns(market)
    sums = sums_of(market, cols)
    for r, acc_id in enumerate(cols.ids):
        h = account_health(market.accounts[acc_id], market)
        exact = h[:6]
        scale = float(h.collateral_value + h.debt_value)
        for got, want in zip(sums, exact, strict=True):
            assert close(float(got[r]), want, scale), (acc_id, got[r], want)


@given(markets(), st.data())
def test_POS_2_liquidation_prices_equal_the_exact_rule(market: Market, data: st.DataObject) -> None:
    cols = PositionColumns(market)
    p = cols.price_vector({a: ap.price for a, ap in market.assets.items()})
    asset = data.draw(st.sampled_from(sorted(market.assets)), label="asset")
    lp, _ = liquidation_prices(cols, p, asset)
    for r, acc_id in enumerate(cols.ids):
        exact = liquidation_price(market, acc_id, asset).price
        # The float rule solves p - (mc - md)/slope, whose error scales with p: a solution
        # within float error of 0 may land on either side of it (NaN, or a price near 0),
        # while the exact rule answers None for <= 0 and rounds a tiny positive gap up to
        # the 1e-18 grid. Such vanishing solutions agree when both are near 0 or absent.
        vanishing = 1e-9 * float(market.assets[asset].price)
        if exact is None or float(exact) <= vanishing:
            assert math.isnan(lp[r]) or lp[r] <= vanishing, (acc_id, lp[r], exact)
        else:
            assert not math.isnan(lp[r]), (acc_id, exact)
            assert abs(lp[r] - float(exact)) <= 1e-7 * float(exact) + 1e-12, (acc_id, lp[r], exact)


def test_a_vanishing_liquidation_price_is_near_zero_or_absent_in_both_rules() -> None:
    """1 WETH supplied against 0.85 + 1e-18 WETH borrowed (gap 2e-15 quote) and 1,000
    USDC: USDC must fall to 2.4e-18 to liquidate. The exact rule rounds that up to 3e-18;
    the float rule computes 1 - 850/850 = 0 and answers NaN. Both say "near 0"."""
    m = two_assets(
        edge={"supply": {"WETH": "1", "USDC": "1000"}, "borrow": {"WETH": "0.850000000000000001"}}
    )
    cols = PositionColumns(m)
    p = cols.price_vector({a: ap.price for a, ap in m.assets.items()})
    lp, _ = liquidation_prices(cols, p, "USDC")
    assert liquidation_price(m, "edge", "USDC").price == Decimal("3E-18")
    assert math.isnan(lp[0]) or lp[0] <= 1e-9


@given(markets(), st.sampled_from([Decimal("1.05"), Decimal("1.1"), Decimal("1.5")]))
def test_POS_3_statuses_equal_the_exact_engine(market: Market, level: Decimal) -> None:
    cols = PositionColumns(market)
    status = classify(market, cols, sums_of(market, cols), level)
    for r, acc_id in enumerate(cols.ids):
        h = account_health(market.accounts[acc_id], market)
        assert STATUSES[int(status[r])] == status_of(h, level), acc_id


def test_a_boundary_account_is_decided_by_the_exact_engine() -> None:
    """mc = md exactly (1 WETH at 2000 x lt 0.85 = 1700 = debt): not liquidatable, at risk."""
    m = two_assets(edge={"supply": {"WETH": 1}, "borrow": {"USDC": 1700}})
    cols = PositionColumns(m)
    status = classify(m, cols, sums_of(m, cols), Decimal("1.1"))
    assert STATUSES[int(status[0])] == "at_risk"


@given(markets(), st.data())
def test_POS_4_refresh_equals_a_fresh_build(market: Market, data: st.DataObject) -> None:
    cols = PositionColumns(market)
    ids = sorted(market.accounts)
    changed = data.draw(st.lists(st.sampled_from(ids), max_size=3, unique=True), label="changed")
    for acc_id in changed:
        acc = market.accounts[acc_id]
        # Replace (never edit) the account, as the service does: half its supply.
        supply = {a: u / 2 for a, u in acc.supply.items()}
        market.accounts[acc_id] = Account(acc_id, supply, dict(acc.borrow), acc.category)
    market.accounts["newcomer"] = Account("newcomer", {next(iter(market.assets)): Decimal(3)})
    read = cols.refresh(market)
    assert read == len(changed) + 1
    fresh = PositionColumns(market)
    assert cols.ids == fresh.ids
    for name in COLUMNS:
        np.testing.assert_array_equal(cols.column(name), fresh.column(name))


def test_a_changed_weight_rebuilds_the_columns() -> None:
    m = two_assets(a={"supply": {"WETH": 2}, "borrow": {"USDC": 100}})
    cols = PositionColumns(m)
    assert cols.column("lt")[0, cols.asset_index("WETH")] == 2 * 0.85
    m.assets["WETH"] = m.assets["WETH"].model_copy(update={"liquidation_threshold": Decimal("0.5")})
    assert cols.refresh(m) == 1
    assert cols.column("lt")[0, cols.asset_index("WETH")] == 1.0
    # A price change alone re-reads nothing.
    m.assets["WETH"] = m.assets["WETH"].model_copy(update={"price": Decimal(1000)})
    assert cols.refresh(m) == 0


def test_the_columns_hold_units_weighted_after_the_size_haircut() -> None:
    """A size factor lowers the weight of a large position (contract 1.2): the column
    holds the units times the exact rule's effective weight, and the sums use it."""
    m = make_market(
        assets={
            "WETH": {"price": 2000, "size_factor": "0.01", **W},
            "USDC": {"price": 1, "decimals": 6, **W},
        },
        accounts={"big": {"supply": {"WETH": 10_000}, "borrow": {"USDC": 100}}},
    )
    cols = PositionColumns(m)
    k = cols.asset_index("WETH")
    lt = 1.1 / (1 + 0.01 * 100)  # 1.1 / (1 + k sqrt(s)) = 0.55 < 0.85
    assert cols.column("lt")[0, k] == pytest.approx(10_000 * lt, rel=1e-15)
    sums = sums_of(m, cols)
    assert sums.maintenance_collateral[0] == pytest.approx(10_000 * 2000 * lt, rel=1e-12)
