"""Contract 5.6: the liquidation price and stress move each perp with its underlying.

Vectors: tests/vectors/hyperliquid.toml (Hyperliquid's liquidation price of a 1 BTC long
and short at 100 with 10 of margin, 2.5 % maintenance) and drift_composite.toml.
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector
from xmargin.analytics.stress import stress
from xmargin.mathlib import quantize_up
from xmargin.risk.health import account_health
from xmargin.risk.liquidation_price import liquidation_price


def test_hyperliquid_long_is_liquidated_at_92_3077() -> None:
    m = load_vector("hyperliquid.toml")
    lp = liquidation_price(m, "long", "BTC")
    # (q E - C) / (q (1 - r)) = 90 / 0.975 = 92.307692307692307692|3.. rounded up
    assert lp.price == D("92.307692307692307693")
    assert round(lp.price, 4) == D("92.3077")  # Hyperliquid's figure
    assert lp.change == D("-0.076923076923076923")  # 92.3.. / 100 - 1, rounded up


def test_hyperliquid_short_is_liquidated_at_107_3171() -> None:
    m = load_vector("hyperliquid.toml")
    lp = liquidation_price(m, "short", "BTC")
    # (E + C) / (1 + r) = 110 / 1.025 = 107.317073170731707317|07.. rounded down
    assert lp.price == D("107.317073170731707317")
    assert round(lp.price, 4) == D("107.3171")  # Hyperliquid's figure


def test_hyperliquid_health_is_one_at_the_returned_prices() -> None:
    m = load_vector("hyperliquid.toml")
    for account in ("long", "short"):
        lp = liquidation_price(m, account, "BTC")
        assert lp.price is not None
        h = account_health(m.accounts[account], m.with_prices({"BTC": lp.price}))
        assert h.health_factor is not None and abs(h.health_factor - 1) < D("1e-17")


def test_drift_composite_liquidation_price_of_sol_is_80_714286() -> None:
    m = load_vector("drift_composite.toml")
    lp = liquidation_price(m, "composite", "SOL")
    # 145 p - 8,000 = 3,300 + 5 p -> p = 11,300 / 140 = 80.714285714285714285|71.. up
    assert lp.price == D("80.714285714285714286")
    assert quantize_up(lp.price, 6) == D("80.714286")


def test_the_settlement_asset_price_does_not_move_the_perp() -> None:
    # USDC moves alone: mc(p) = 10 p (weight 1) against md = 2.5 (pnl 0 at BTC 100)
    m = load_vector("hyperliquid.toml")
    lp = liquidation_price(m, "long", "USDC")
    assert lp.price == D("0.25")  # 10 p = 2.5


def test_a_perp_on_another_asset_is_a_constant_term() -> None:
    m = load_vector("drift_composite.toml")
    # ETH borrowed 1 at 3,000 (mbw 1.1); the SOL-PERP and SOL stay at 100:
    # mc = 6,500 fixed; md(p) = 1.1 p + 500 -> p = 6,000 / 1.1 = 5,454.5454.. down
    lp = liquidation_price(m, "composite", "ETH")
    assert lp.price == D("5454.545454545454545454")


@pytest.mark.parametrize("shock", ["-10", "-30", "25"])
def test_stress_moves_each_perp_with_its_underlying(shock: str) -> None:
    m = load_vector("drift_composite.toml")
    result = stress(m, {"SOL": D(shock) / 100})
    p = D(100) * (1 + D(shock) / 100)
    assert result.prices == {"SOL": p}
    ((account, h),) = result.accounts
    assert account == "composite"
    assert h.perp_notional == 100 * p
    assert h.unrealized_pnl == 100 * (p - 90)
    assert h == account_health(m.accounts["composite"], m.with_prices({"SOL": p}))


def test_stress_past_the_liquidation_price_makes_the_perp_account_liquidatable() -> None:
    m = load_vector("hyperliquid.toml")
    fall = stress(m, {"BTC": D("-0.08")})  # 92 < 92.3077: the long is liquidatable
    rows = dict(fall.accounts)
    assert rows["long"].liquidatable and not rows["short"].liquidatable
    assert fall.summary.liquidatable_accounts == 1
    assert fall.summary.liquidatable_debt == D("8")  # the long's debt_value: pnl -8
    rise = stress(m, {"BTC": D("0.08")})  # 108 > 107.3171: the short is liquidatable
    assert [a for a, h in rise.accounts if h.liquidatable] == ["short"]
