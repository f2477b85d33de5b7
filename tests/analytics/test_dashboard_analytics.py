"""The dashboard's analytics on a hand-checked book: exposure, overview, health
distribution, liquidation map, account risk and what-if.

The book (WETH at 2000, USDC at 1; both cf 0.8, lt 0.85; amounts in quote):
  a  10 WETH (20000) against 10000 USDC: mc 17000, md 10000, health 1.7      healthy
  b   1 WETH  (2000) against  1600 USDC: mc  1700, health 1.0625            at risk
  c   1 WETH  (2000) against  1800 USDC: health 0.944, cv 2000 > dv 1800     liquidatable
  d   1 WETH  (2000) against  2100 USDC: health 0.810, cv 2000 < dv 2100     insolvent
  e   5000 USDC, no debt                                                     healthy
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from tests.builders import make_market
from xmargin.analytics.exposure import asset_exposure
from xmargin.analytics.liquidation_map import liquidation_map
from xmargin.analytics.overview import (
    book_overview,
    classify,
    health_distribution,
    nearest_to_liquidation,
    sums_of,
)
from xmargin.analytics.positions import PositionColumns
from xmargin.analytics.what_if import account_risk, what_if
from xmargin.errors import InputError, UnknownAccount, UnknownAsset
from xmargin.model import Market
from xmargin.risk.liquidation import quote_liquidation

W = {"collateral_factor": "0.8", "liquidation_threshold": "0.85", "liquidation_bonus": "0.05"}


@pytest.fixture
def book() -> Market:
    return make_market(
        assets={
            "WETH": {"price": 2000, "supply_cap": 26, **W},
            "USDC": {"price": 1, "decimals": 6, "borrow_cap": 31000, **W},
        },
        accounts={
            "a": {"supply": {"WETH": 10}, "borrow": {"USDC": 10000}},
            "b": {"supply": {"WETH": 1}, "borrow": {"USDC": 1600}},
            "c": {"supply": {"WETH": 1}, "borrow": {"USDC": 1800}},
            "d": {"supply": {"WETH": 1}, "borrow": {"USDC": 2100}},
            "e": {"supply": {"USDC": 5000}},
        },
    )


def down6(x: Fraction) -> Decimal:
    """x rounded down to 6 places (the ratios' precision)."""
    return Decimal(int(x * 10**6)) / 10**6


def test_exposure_totals_caps_and_concentration(book: Market) -> None:
    weth, usdc = asset_exposure(book, PositionColumns(book))
    assert (weth.total_supply, weth.total_borrow, weth.supply_value) == (13, 0, 26000)
    assert weth.utilization == 0
    assert weth.supply_cap_use == Decimal("0.5")  # 13 of 26 WETH
    assert weth.borrow_cap is None and weth.borrow_cap_use is None
    assert weth.suppliers.holders == 4
    assert weth.suppliers.largest == "a"
    assert weth.suppliers.largest_share == down6(Fraction(10, 13))
    assert weth.suppliers.top_n_share == 1
    assert weth.suppliers.hhi == down6(Fraction(100 + 1 + 1 + 1, 169))
    assert weth.borrowers.holders == 0 and weth.borrowers.largest is None
    assert usdc.utilization == Decimal("3.1")  # 15500 borrowed of 5000 supplied
    assert usdc.borrow_cap_use == Decimal("0.5")  # 15500 of 31000
    assert usdc.borrowers.largest == "a"
    assert usdc.borrowers.largest_share == down6(Fraction(10000, 15500))
    shares = [Fraction(x, 15500) for x in (10000, 1600, 1800, 2100)]
    assert usdc.borrowers.hhi == down6(sum(s * s for s in shares))
    assert usdc.deficit == 0 and usdc.debt_ceiling_use is None


def test_overview_counts_totals_and_distribution(book: Market) -> None:
    cols = PositionColumns(book)
    sums = sums_of(book, cols)
    status = classify(book, cols, sums, Decimal("1.1"))
    o = book_overview(book, cols, sums, status)
    assert o.by_status == {"healthy": 2, "at_risk": 1, "liquidatable": 1, "insolvent": 1}
    assert (o.accounts, o.accounts_with_debt) == (5, 4)
    assert o.collateral_value == pytest.approx(31000)
    assert o.debt_value == pytest.approx(15500)
    # available to borrow: a 16000 - 10000, e 4000; the others none.
    assert o.borrowing_power == pytest.approx(10000)
    assert o.liquidatable_debt == pytest.approx(1800 + 2100)
    assert o.insolvent_shortfall == pytest.approx(100)
    assert o.deficit_value == 0 and o.insurance_fund is None
    bins = {(b.low, b.high): b.accounts for b in health_distribution(sums) if b.accounts}
    assert bins == {(1.5, 2.0): 1, (1.05, 1.1): 1, (0.9, 0.95): 1, (0.8, 0.9): 1}
    near = nearest_to_liquidation(cols, sums, status, 5)
    assert [n.account for n in near] == ["b", "a"]
    assert near[0].health_factor == pytest.approx(1.0625)


def test_liquidation_map_places_each_account_at_its_liquidation_price(book: Market) -> None:
    cols = PositionColumns(book)
    sums = sums_of(book, cols)
    p = cols.price_vector({a: ap.price for a, ap in book.assets.items()})
    m = liquidation_map(cols, p, sums, "WETH", depth=0.5, bins=10)
    assert m.price == 2000 and len(m.bins) == 10
    assert (m.bins[0].price_low, m.bins[0].price_high) == (1900, 2000)  # highest first
    filled = {(b.price_low, b.price_high): b for b in m.bins if b.accounts}
    # b: 1600 / 0.85 = 1882.35; a: 10000 / (10 x 0.85) = 1176.47.
    assert set(filled) == {(1800, 1900), (1100, 1200)}
    b_bin, a_bin = filled[(1800, 1900)], filled[(1100, 1200)]
    assert b_bin.collateral_value == pytest.approx(1600 / 0.85)
    assert b_bin.debt_value == pytest.approx(1600)
    assert a_bin.collateral_value == pytest.approx(10 * 10000 / 8.5)
    # c and d are liquidatable already (WETH collateral 2000 each); nobody below 1000.
    assert (m.liquidatable_now, m.liquidatable_now_collateral_value) == (2, pytest.approx(4000))
    assert m.below_range == 0
    shallow = liquidation_map(cols, p, sums, "WETH", depth=0.2, bins=4)
    assert shallow.below_range == 1 and shallow.below_range_collateral_value == pytest.approx(
        10 * 10000 / 8.5
    )


def test_liquidation_map_refuses_bad_parameters(book: Market) -> None:
    cols = PositionColumns(book)
    sums = sums_of(book, cols)
    p = cols.price_vector({a: ap.price for a, ap in book.assets.items()})
    with pytest.raises(InputError, match="depth"):
        liquidation_map(cols, p, sums, "WETH", depth=1.0)
    with pytest.raises(InputError, match="bins"):
        liquidation_map(cols, p, sums, "WETH", bins=0)
    with pytest.raises(UnknownAsset):
        liquidation_map(cols, p, sums, "DOGE")


def test_account_risk_lists_positions_with_liquidation_prices(book: Market) -> None:
    r = account_risk(book, "b")
    assert r.health.health_factor == Decimal("1.0625")
    weth, usdc = r.positions
    assert (weth.asset, weth.supply, weth.supply_value) == ("WETH", 1, 2000)
    assert weth.liquidation_threshold == Decimal("0.85")
    assert weth.liquidation_price.price is not None
    assert abs(weth.liquidation_price.price - Decimal(1600) / Decimal("0.85")) < Decimal("1e-15")
    assert usdc.borrow == 1600 and usdc.borrow_value == 1600


def test_what_if_reprices_a_copy_and_quotes_the_liquidation(book: Market) -> None:
    before = book.copy()
    w = what_if(book, "b", {"WETH": Decimal("-0.1")})
    assert w.prices == {"WETH": Decimal(1800)}
    assert w.before.health_factor == Decimal("1.0625")
    assert w.after.health_factor == Decimal("0.95625")  # 1530 / 1600
    assert w.after.liquidatable and w.refused is None
    assert w.liquidation is not None
    # Health 0.956 >= 0.95: the close factor (0.5) limits the repayment to 800 USDC.
    assert w.liquidation.repaid == 800
    expected = quote_liquidation(book.with_prices(w.prices), "b", "USDC", "WETH", "max")
    assert w.liquidation.seized == expected.seized
    assert book.state_equals(before)
    assert book.assets["WETH"].price == 2000
    safe = what_if(book, "a", {"WETH": Decimal("-0.1")})
    assert not safe.after.liquidatable and safe.liquidation is None
    with pytest.raises(UnknownAccount):
        what_if(book, "zed", {"WETH": Decimal("-0.1")})


def test_figures_are_float_sums_of_the_same_rows(book: Market) -> None:
    """The overview's sums are the columns times prices (no account counted twice)."""
    cols = PositionColumns(book)
    sums = sums_of(book, cols)
    np.testing.assert_allclose(sums.collateral_value, [20000, 2000, 2000, 2000, 5000])
