"""Closed forms: constant-product slippage, the toxic boundary, VaR under GBM.

- CF-1: selling q units into a pool of X units fills on average q/(X+q) below mid, and
  leaves the mid at m X^2/(X+q)^2.
- CF-2: a depth curve fills exactly the area under its line (a trapezoid per segment).
- CF-3: liquidating an account whose debt/collateral value exceeds 1/(1+bonus) makes
  the ratio worse; below the boundary it makes it better; the kernels flag the first as
  toxic and not the second.
- CF-4: the 99% VaR of a one-account book under GBM is the engine's bad debt at the
  analytic lognormal 1% quantile of the price, within Monte Carlo error.
"""

from __future__ import annotations

import math
from decimal import Decimal
from statistics import NormalDist

import numpy as np
import pytest

from tests.builders import make_market
from xmargin.analytics import kernel_layout as kl
from xmargin.analytics.liquidity import Liquidity, cpmm_average_price_slippage
from xmargin.analytics.montecarlo import MonteCarloConfig, monte_carlo, settle
from xmargin.analytics.prices import HOURS_PER_YEAR
from xmargin.analytics.return_models import GBM
from xmargin.analytics.simbook import SimBook
from xmargin.ledger.actions import execute_liquidate
from xmargin.model.params import AssetParams, LiquidityParams
from xmargin.risk.health import account_health


def _asset(symbol: str, liquidity: LiquidityParams | None) -> AssetParams:
    return AssetParams(
        symbol=symbol,
        price=Decimal(100),
        collateral_factor=Decimal("0.5"),
        liquidation_threshold=Decimal("0.6"),
        liquidation_bonus=Decimal("0.05"),
        liquidity=liquidity,
    )


@pytest.mark.parametrize("q", [1.0, 37.5, 1000.0, 25_000.0])
def test_constant_product_average_price_moves_by_q_over_x_plus_q(q: float) -> None:
    # A pool of X = 1,000 units and 100,000 quote: mid 100 quote per unit.
    liq = Liquidity.from_params(
        {"A": _asset("A", LiquidityParams(model="cpmm", reserve_units=1000, reserve_quote=100000))}
    )
    x, mid = 1000.0, 100.0
    got = float(liq.proceeds(0, mid, 0.0, q))
    average = got / q
    assert 1.0 - average / mid == pytest.approx(q / (x + q), rel=1e-12)
    assert cpmm_average_price_slippage(q, x) == pytest.approx(q / (x + q), rel=1e-15)
    assert float(liq.mid_after(0, mid, q)) == pytest.approx(mid * x**2 / (x + q) ** 2, rel=1e-12)
    # Selling in two parts fills the same as selling at once (path independence).
    half = float(liq.proceeds(0, mid, 0.0, q / 2)) + float(liq.proceeds(0, mid, q / 2, q / 2))
    assert half == pytest.approx(got, rel=1e-12)


def test_a_constant_product_pool_recentres_on_the_oracle_price() -> None:
    # k = 1,000 x 100,000; at mid 25 the arbitraged pool holds sqrt(k / 25) = 2,000 units.
    liq = Liquidity.from_params(
        {"A": _asset("A", LiquidityParams(model="cpmm", reserve_units=1000, reserve_quote=100000))}
    )
    q = 500.0
    got = float(liq.proceeds(0, 25.0, 0.0, q))
    assert 1.0 - got / q / 25.0 == pytest.approx(q / (2000.0 + q), rel=1e-12)


def test_a_depth_curve_fills_the_area_under_its_line() -> None:
    # 10,000 quote within 1%, 50,000 within 5%: selling 30,000 of notional at mid 100.
    liq = Liquidity.from_params(
        {
            "A": _asset(
                "A",
                LiquidityParams(
                    model="depth",
                    depth=((Decimal("0.01"), Decimal(10000)), (Decimal("0.05"), Decimal(50000))),
                ),
            )
        }
    )
    mid, notional = 100.0, 30_000.0
    q = notional / mid
    # x(V): 0 -> 1% over the first 10,000, then 1% -> 3% over the next 20,000.
    area = 10_000 * (1 - 0.005) + 20_000 * (1 - (0.01 + 0.03) / 2)
    assert float(liq.proceeds(0, mid, 0.0, q)) == pytest.approx(area, rel=1e-12)
    assert float(liq.mid_after(0, mid, q)) == pytest.approx(mid * (1 - 0.03), rel=1e-12)
    # The inverse: how much sells before the marginal price falls to 97.
    assert float(liq.units_until(0, mid, 0.0, 97.0)) == pytest.approx(q, rel=1e-12)


def _one_account(coll_units: str, debt_units: str, bonus: str) -> tuple[object, SimBook]:
    market = make_market(
        assets={
            "ETH": {
                "price": 1000,
                "collateral_factor": "0.80",
                "liquidation_threshold": "0.85",
                "liquidation_bonus": bonus,
            },
            "USD": {
                "price": 1,
                "collateral_factor": "0",
                "liquidation_threshold": "0",
                "liquidation_bonus": "0",
            },
        },
        accounts={"x": {"supply": {"ETH": coll_units}, "borrow": {"USD": debt_units}}},
        market={"close_factor": "0.5", "full_liquidation_health": "0"},
    )
    return market, SimBook.from_market(market)


@pytest.mark.parametrize("bonus", ["0.05", "0.10"])
@pytest.mark.parametrize("side", [-1, 1])
def test_the_toxic_boundary_is_one_over_one_plus_the_bonus(bonus: str, side: int) -> None:
    beta = Decimal(bonus)
    boundary = 1 / (1 + beta)  # debt / collateral value
    ltv = boundary * (1 + Decimal(side) * Decimal("0.01"))
    # 10 ETH at 1,000 = 10,000 quote of collateral; debt = ltv x 10,000.
    debt = f"{ltv * 10000:.6f}"
    market, book = _one_account("10", debt, bonus)
    before = account_health(market.account("x"), market)  # type: ignore[attr-defined]
    execute_liquidate(market, "x", "USD", "ETH", "max")  # type: ignore[arg-type]
    after = account_health(market.account("x"), market)  # type: ignore[attr-defined]
    ratio_before = before.debt_value / before.collateral_value
    ratio_after = after.debt_value / after.collateral_value
    if side > 0:
        assert ratio_after > ratio_before  # liquidating made it worse: toxic
    else:
        assert ratio_after < ratio_before
    flagged = settle(book).per_account[0, kl.AC_TOXIC]
    assert flagged == (1.0 if side > 0 else 0.0)


def test_var_of_a_one_account_book_under_gbm_is_the_lognormal_quantile() -> None:
    # 100 ETH at 2,000 against 120,000 USD; ETH follows GBM, sigma 100% a year, 30 days.
    market = make_market(
        assets={
            "ETH": {
                "price": 2000,
                "collateral_factor": "0.80",
                "liquidation_threshold": "0.85",
                "liquidation_bonus": "0.05",
            },
            "USD": {
                "price": 1,
                "collateral_factor": "0",
                "liquidation_threshold": "0",
                "liquidation_bonus": "0",
            },
        },
        accounts={"x": {"supply": {"ETH": "100"}, "borrow": {"USD": "120000"}}},
    )
    book = SimBook.from_market(market)
    sigma, hours = 1.0, 720.0
    t = hours / HOURS_PER_YEAR
    model = GBM(("ETH",), np.array([sigma]))
    cfg = MonteCarloConfig(
        n_paths=20_000, horizon_hours=hours, seed=11, static=("USD",), bootstrap=300
    )
    result = monte_carlo(book, model, cfg)
    # Bad debt falls as the price rises, so its 99% quantile is at the price's 1% quantile.
    z = NormalDist().inv_cdf(0.01)
    p_q = 2000.0 * math.exp(-0.5 * sigma**2 * t + sigma * math.sqrt(t) * z)
    shocked = market.with_prices({"ETH": Decimal(repr(p_q))})
    exact = shocked.copy()
    from tests.analytics.books import exact_liquidate_all

    analytic = float(exact_liquidate_all(exact, "x").bad_debt)
    var = result.figures["var_99"]
    assert analytic > 10_000  # quote: deep in the tail, well away from zero
    assert abs(var.value - analytic) <= 4 * var.std_error + 1e-6 * analytic
    assert var.std_error < 0.05 * analytic
