"""Simulations with perps: the simulation book carries perp positions, and its figures
at simulated prices are the exact engine's (risk/perps.py, risk/health.py)."""

from __future__ import annotations

import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

import xmargin
from xmargin.analytics.montecarlo import MonteCarloConfig, draw_paths, monte_carlo
from xmargin.analytics.return_models import GBM
from xmargin.analytics.simbook import SimBook
from xmargin.data import data_path
from xmargin.model.market import Market
from xmargin.risk.health import account_health

SMALL = """
[market]
name = "perps-small"
quote = "USD"
close_factor = 0.5
full_liquidation_health = 0.95
small_position_value = 100
min_leftover_value = 10
bonus_policy = "fixed"

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

[perps.ETH-PERP]
underlying = "ETH"
settlement_asset = "USDC"
initial_margin = 0.10
maintenance_margin = 0.05
liquidation_fee = 0.01
insurance_fee = 0.005

[accounts.long]
supply = { USDC = 3000 }
perps = { ETH-PERP = { size = 10, entry_price = 1900 } }

[accounts.short]
supply = { USDC = 2500, ETH = 1 }
perps = { ETH-PERP = { size = -12, entry_price = 2050 } }

[accounts.spot]
supply = { ETH = 1 }
borrow = { USDC = 1000 }
"""


def _small(tmp_path: Path) -> Market:
    p = tmp_path / "small.toml"
    p.write_text(SMALL)
    return xmargin.load_market(p)


def _paths(book: SimBook, n: int = 8, sigma: float = 2.0) -> np.ndarray:
    model = GBM(book.assets, np.full(book.n_assets, sigma))
    cfg = MonteCarloConfig(n_paths=n, horizon_hours=24.0 * 7, seed=3)
    return draw_paths(book, model, cfg, 0, n)[:, -1, :]


def _exact_at(market: Market, book: SimBook, prices: np.ndarray) -> Market:
    return market.with_prices(
        {a: Decimal(repr(float(prices[j]))) for j, a in enumerate(book.assets)}
    )


@pytest.mark.parametrize("which", ["demo", "small"])
def test_simbook_figures_with_perps_match_the_exact_engine(which: str, tmp_path: Path) -> None:
    """At each simulated price vector, every account's mc − md and health factor in the
    simulation book (perp terms through fast/perps.py) equal the exact engine's."""
    market = xmargin.load_market(data_path("demo.toml")) if which == "demo" else _small(tmp_path)
    book = SimBook.from_market(market)
    assert book.perps is not None and book.perps.n_positions >= 2
    held = [book.account_ids[i] for i in book.perps.accounts()]
    prices = _paths(book)
    margins = book.margin(prices)
    for k, p in enumerate(prices):
        m = _exact_at(market, book, p)
        hf = book.health_factors(p)
        for i, acc in enumerate(book.account_ids):
            if acc not in held and which == "demo" and i % 7:
                continue  # every perp account, a sample of the others
            h = account_health(m.account(acc), m)
            exact = float(h.maintenance_collateral - h.maintenance_debt)
            scale = 1e-9 * max(1.0, float(h.maintenance_collateral + h.maintenance_debt))
            assert margins[k, i] == pytest.approx(exact, abs=scale), (acc, k)
            if h.health_factor is None:
                assert np.isnan(hf[i]) or not np.isfinite(hf[i]) or hf[i] > 1e12
            else:
                assert hf[i] == pytest.approx(float(h.health_factor), rel=1e-9, abs=1e-12)


def test_monte_carlo_includes_perps_and_warns_no_more(tmp_path: Path) -> None:
    """One-step Monte Carlo on a market whose accounts hold perps: no warning; on each
    path an account liquidatable with its perp terms counts as still liquidatable and its
    deficit (exact dv − cv) is residual bad debt; borrowing power includes the perps'
    initial collateral."""
    market = _small(tmp_path)
    book = SimBook.from_market(market)
    cfg = MonteCarloConfig(n_paths=16, horizon_hours=24.0 * 7, seed=3, settle_first=False)
    model = GBM(book.assets, np.full(book.n_assets, 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = monte_carlo(book, model, cfg)
    prices = res.per_path["final_prices"]
    stuck_seen = 0
    for k, p in enumerate(prices):
        m = _exact_at(market, book, p)
        stuck = 0
        residual = Decimal(0)
        power = Decimal(0)
        for acc in ("long", "short"):
            h = account_health(m.account(acc), m)
            power += h.initial_collateral
            if h.liquidatable:
                stuck += 1
                residual += max(h.debt_value - h.collateral_value, Decimal(0))
        spot = account_health(m.account("spot"), m)
        if not spot.liquidatable:
            power += spot.initial_collateral
            assert res.per_path["residual"][k] == pytest.approx(float(residual), abs=1e-6)
            assert res.per_path["borrowing_power"][k] == pytest.approx(float(power), rel=1e-9)
        assert res.per_path["still_liquidatable"][k] >= stuck
        stuck_seen += stuck
    assert stuck_seen > 0  # the paths reach the perp accounts' liquidation


def test_a_step_by_step_monte_carlo_liquidates_perp_accounts(tmp_path: Path) -> None:
    """With steps the Monte Carlo runs the cascade engine, whose perp desk liquidates the
    perp accounts (contract 5.4): some paths have perp liquidations, and no warning."""
    market = _small(tmp_path)
    book = SimBook.from_market(market)
    cfg = MonteCarloConfig(n_paths=16, horizon_hours=24.0 * 7, steps=4, seed=3)
    model = GBM(book.assets, np.full(book.n_assets, 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = monte_carlo(book, model, cfg)
    assert res.engine == "cascade"
    assert res.per_path["perp_liquidations"].sum() > 0
    assert (res.per_path["liquidations"] >= res.per_path["perp_liquidations"]).all()
