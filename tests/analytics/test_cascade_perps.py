"""Cascades with perps: perp accounts are liquidated by contract 5.4 (through the float
twins of fast/perps.py), as the exact engine does, and the liquidator's hedge moves the
underlying's price as a spot sale does."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

import xmargin
from xmargin.analytics.cascade import PathEngine
from xmargin.analytics.cascade.perp_desk import PerpDesk
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.simbook import SimBook
from xmargin.model.market import Market
from xmargin.risk.health import account_health
from xmargin.risk.perp_liquidation import quote_perp_liquidation

MARKET = """
[market]
name = "perps-cascade"
quote = "USD"
close_factor = 0.5
full_liquidation_health = 0.95
small_position_value = 100
min_leftover_value = 10

[assets.USDC]
price = 1
decimals = 6
collateral_factor = 0.95
liquidation_threshold = 0.97
liquidation_bonus = 0.01

[assets.ETH]
price = 2000
decimals = 18
collateral_factor = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.05
{liquidity}

[perps.ETH-PERP]
underlying = "ETH"
settlement_asset = "USDC"
initial_margin = 0.10
maintenance_margin = 0.05
liquidation_fee = 0.01
insurance_fee = 0.005

[accounts.long]
supply = {{ USDC = 2000 }}
perps = {{ ETH-PERP = {{ size = 10, entry_price = 2000 }} }}

[accounts.short]
supply = {{ USDC = 5000 }}
perps = {{ ETH-PERP = {{ size = -3, entry_price = 2100 }} }}
"""
POOL = 'liquidity = { model = "cpmm", reserve_units = 500, reserve_quote = 1000000 }'


def _market(tmp_path: Path, liquidity: str = "") -> Market:
    p = tmp_path / "m.toml"
    p.write_text(MARKET.format(liquidity=liquidity))
    return xmargin.load_market(p)


def _at(market: Market, eth: float) -> Market:
    return market.with_prices({"ETH": Decimal(repr(eth))})


@pytest.mark.parametrize("eth", [1850.0, 1895.0])
def test_a_perp_liquidation_round_is_the_exact_one(tmp_path: Path, eth: float) -> None:
    """At ETH 1,850 (health under full_liquidation_health: all closed) and 1,895 (the
    close factor's half) the long (10 at 2,000 on 2,000 USDC) is liquidatable: one round
    of the desk closes what 5.4 allows, with the same fees and the same USDC left as
    quote_perp_liquidation; the short is untouched."""
    market = _market(tmp_path)
    book = SimBook.from_market(market)
    m = _at(market, eth)
    assert account_health(m.account("long"), m).liquidatable
    assert not account_health(m.account("short"), m).liquidatable
    exact = quote_perp_liquidation(m, "long", "ETH-PERP", "max")
    desk = PerpDesk(book, 1)
    mids = np.array([[1.0, eth]])
    sold = desk._round(mids)
    assert sold is not None
    usdc = book.assets.index("USDC")
    h = list(book.account_ids[i] for i in desk.held).index("long")
    after = exact.account_after
    pos = after.position("ETH-PERP")
    assert desk.q[0, 0] == pytest.approx(0.0 if pos is None else float(pos.size), abs=1e-12)
    assert desk.q[0, 1] == -3.0
    assert desk.s[0, h, usdc] == pytest.approx(float(after.supplied("USDC")), rel=1e-12)
    assert desk.b[0, h, usdc] == pytest.approx(float(after.borrowed("USDC")), abs=1e-9)
    fees = float(exact.liquidator_fee + exact.insurance_fee)
    assert desk.liquidator_fees[0] + desk.insurance_fees[0] == pytest.approx(fees, rel=1e-12)
    assert sold[0, book.assets.index("ETH")] == pytest.approx(float(exact.closed))


def test_a_cascade_liquidates_perp_accounts_until_healthy_as_the_exact_engine(
    tmp_path: Path,
) -> None:
    """Without liquidity (no impact), the cascade's perp liquidations end where repeated
    exact liquidations end: the same USDC, the same position left, the same count."""
    market = _market(tmp_path)
    book = SimBook.from_market(market)
    eng = PathEngine(book)
    exo = np.array([[[1.0, 1895.0]]])
    out, _ = eng.run(exo)
    m = _at(market, 1895.0)
    n = 0
    while account_health(m.account("long"), m).liquidatable and m.account("long").perps:
        q = quote_perp_liquidation(m, "long", "ETH-PERP", "max")
        m.accounts["long"] = q.account_after
        n += 1
    assert n > 0
    assert out.perp_liquidations[0] == n
    assert out.liquidations[0] == n
    left = m.account("long")
    h = account_health(left, m)
    assert out.still_liquidatable[0] == (1 if h.liquidatable else 0)
    assert out.residual[0] == pytest.approx(max(0.0, float(h.debt_value - h.collateral_value)))
    exact_power = sum(account_health(m.account(a), m).initial_collateral for a in ("long", "short"))
    assert out.borrowing_power[0] == pytest.approx(float(exact_power), rel=1e-9)


def test_a_perp_liquidation_pushes_the_underlying_price(tmp_path: Path) -> None:
    """With a pool on ETH the liquidator sells the long it takes over: ETH ends below its
    path price; with the perps removed nothing moves it."""
    market = _market(tmp_path, POOL)
    book = SimBook.from_market(market)
    liq = Liquidity.from_params(market.assets)
    exo = np.array([[[1.0, 1850.0]]])
    out, _ = PathEngine(book, liq).run(exo)
    eth = book.assets.index("ETH")
    assert out.perp_liquidations[0] > 0
    assert out.final_prices[0, eth] < 1850.0 * (1 - 1e-6)
    for acc in market.accounts.values():
        for name in list(acc.perps):
            acc.set_perp(name, None)
    plain, _ = PathEngine(SimBook.from_market(market), liq).run(exo)
    assert plain.final_prices[0, eth] == 1850.0


def test_funding_accrues_over_steps(tmp_path: Path) -> None:
    """A positive funding rate makes the long pay each step: flat prices, and the long,
    healthy at first, is liquidated once funding has eaten its margin."""
    market = _market(tmp_path)
    book = SimBook.from_market(market)
    exo = np.full((1, 40, 2), [1.0, 1950.0])
    flat, _ = PathEngine(book).run(exo)
    assert flat.perp_liquidations[0] == 0
    paid, _ = PathEngine(book, funding_per_step=np.array([0.002])).run(exo)
    assert paid.perp_liquidations[0] > 0


def test_perp_cascades_do_not_depend_on_the_grouping_of_paths(tmp_path: Path) -> None:
    """The same paths give the same figures, bit for bit, in groups of 1, 3 or all."""
    market = _market(tmp_path, POOL)
    book = SimBook.from_market(market)
    liq = Liquidity.from_params(market.assets)
    rng = np.random.default_rng(5)
    eth = 2000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03, (7, 6)), axis=1))
    exo = np.stack([np.ones_like(eth), eth], axis=2)
    runs = []
    for g in (1, 3, 7):
        eng = PathEngine(book, liq, funding_per_step=np.array([0.0005]))
        eng.group = g
        runs.append(eng.run(exo)[0])
    assert runs[0].perp_liquidations.sum() > 0
    for other in runs[1:]:
        for name in ("bad_debt", "perp_liquidations", "perp_closed_value", "final_prices",
                     "borrowing_power", "pair_bad", "pair_acct"):  # fmt: skip
            assert np.array_equal(getattr(runs[0], name), getattr(other, name)), name
