"""Seeded random markets for the simulation tests, and the exact engine's liquidation loop.

``random_market`` draws a small contract-v1 market (through ``make_market``, so it passes
the loader's validation) with every rule of contract section 3 in play: categories, size
haircuts, liability weights, protocol fees, small positions, dust and each bonus policy.
``exact_liquidate_all`` drives the exact Decimal engine (``execute_liquidate``) the way
the simulation's liquidator acts: largest debt against largest collateral, "max", until
the account is no longer liquidatable or a rule refuses. ``run_one_step`` runs one path
of one step through the cascade engine and keeps its perp/option desk.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np

from tests.builders import make_market
from xmargin.analytics.cascade import PathEngine, PathOutcome
from xmargin.analytics.cascade.perp_desk import PerpDesk
from xmargin.analytics.simbook import SimBook
from xmargin.errors import NothingToLiquidate, WouldLeaveDust
from xmargin.ledger.actions import execute_liquidate
from xmargin.mathlib import ZERO
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.weights import category_weights

__all__ = ["ExactOutcome", "exact_liquidate_all", "random_market", "run_one_step"]


def _dec(x: float, places: int = 6) -> str:
    return f"{x:.{places}f}"


def random_market(
    seed: int,
    n_accounts: int = 40,
    n_assets: int = 4,
    policy: str = "fixed",
    small_position_value: str = "0",
    min_leftover_value: str = "0",
    size_factor: bool = True,
    liquidity: dict[str, dict[str, Any]] | None = None,
    hf_range: tuple[float, float] = (0.4, 1.6),
) -> Market:
    """A seeded market whose accounts span healthy, liquidatable and insolvent."""
    rng = np.random.default_rng(seed)
    names = [f"A{j}" for j in range(n_assets)]
    prices = np.exp(rng.uniform(-1.0, 8.0, n_assets))
    assets: dict[str, dict[str, Any]] = {}
    for j, a in enumerate(names):
        lt = rng.uniform(0.5, 0.9)
        cf = lt - rng.uniform(0.0, 0.1)
        mbw = 1.0 if rng.random() < 0.6 else rng.uniform(1.0, 1.2)
        table: dict[str, Any] = {
            "price": _dec(prices[j], 8),
            "collateral_factor": _dec(cf, 4),
            "liquidation_threshold": _dec(lt, 4),
            # lt x (1 + bonus) <= 1: a larger bonus is refused at load
            "liquidation_bonus": _dec(min(rng.uniform(0.02, 0.12), 1 / lt - 1 - 1e-4), 4),
            "protocol_fee": _dec(rng.uniform(0.0, 0.2), 3),
            "maintenance_borrow_weight": _dec(mbw, 4),
            "borrow_weight": _dec(mbw + rng.uniform(0.0, 0.1), 4),
        }
        if size_factor and rng.random() < 0.4:
            table["size_factor"] = _dec(rng.uniform(0.0001, 0.01), 5)
        if liquidity and a in liquidity:
            table["liquidity"] = liquidity[a]
        assets[a] = table
    # One asset that is not collateral at all.
    if n_assets >= 3:
        assets[names[-1]]["collateral_factor"] = "0"
        assets[names[-1]]["liquidation_threshold"] = "0"
    categories = {
        "pair": {
            "collateral_factor": "0.9",
            "liquidation_threshold": "0.93",
            "liquidation_bonus": "0.01",
            "assets": names[:2],
        }
    }
    accounts: dict[str, dict[str, Any]] = {}
    for i in range(n_accounts):
        k_s = int(rng.integers(1, min(3, n_assets) + 1))
        k_b = int(rng.integers(1, min(2, n_assets) + 1))
        sup = rng.choice(n_assets, size=k_s, replace=False)
        bor = rng.choice(n_assets, size=k_b, replace=False)
        value = float(np.exp(rng.uniform(np.log(50.0), np.log(5e5))))
        supply = {}
        coll_weighted = 0.0
        for j in sup:
            v = value * rng.dirichlet(np.ones(k_s))[0] if k_s > 1 else value
            units = v / prices[j]
            supply[names[j]] = _dec(units, 6)
            coll_weighted += (
                float(supply[names[j]])
                * prices[j]
                * float(assets[names[j]]["liquidation_threshold"])
            )
        hf = rng.uniform(*hf_range)
        target_debt = coll_weighted / hf if coll_weighted > 0 else value * 0.5
        borrow = {}
        for j in bor:
            share = 1.0 / k_b
            borrow[names[j]] = _dec(target_debt * share / prices[j], 6)
        entry: dict[str, Any] = {"supply": supply, "borrow": borrow}
        if rng.random() < 0.2:
            entry["category"] = "pair"
        accounts[f"acc{i:03d}"] = entry
    market = {
        "close_factor": "0.5",
        "full_liquidation_health": "0.95",
        "small_position_value": small_position_value,
        "min_leftover_value": min_leftover_value,
        "bonus_policy": policy,
        "max_bonus": "0.12",
    }
    return make_market(assets=assets, accounts=accounts, market=market, categories=categories)


class ExactOutcome(NamedTuple):
    """What the exact engine did to one account (values in quote at the market's prices)."""

    written_off: Decimal
    residual: Decimal
    repaid_value: Decimal
    seized_value: Decimal
    fee_value: Decimal
    liquidations: int

    @property
    def bad_debt(self) -> Decimal:
        return self.written_off + self.residual


def _largest(market: Market, values: dict[str, Decimal]) -> str | None:
    best: str | None = None
    best_v = Decimal(-1)
    for a in market.assets:  # asset order breaks ties, as the kernels' entry order does
        v = values.get(a)
        if v is not None and v > best_v:
            best, best_v = a, v
    return best


def exact_liquidate_all(market: Market, account_id: str) -> ExactOutcome:
    """Liquidate ``account_id`` in ``market`` (mutated) the simulation's way, exactly."""
    written = repaid = seized = fee = ZERO
    n = 0
    for _ in range(1000):
        acc = market.account(account_id)
        if not account_health(acc, market).liquidatable:
            break
        debts = {a: u * market.assets[a].price for a, u in acc.borrow.items()}
        category = market.category_of(acc)
        colls = {
            a: u * market.assets[a].price
            for a, u in acc.supply.items()
            if category_weights(market.assets[a], category).liquidation_threshold > 0
        }
        d, c = _largest(market, debts), _largest(market, colls)
        if d is None or c is None:
            break
        before = dict(market.deficit)
        try:
            q = execute_liquidate(market, account_id, d, c, "max")
        except (WouldLeaveDust, NothingToLiquidate):
            break
        n += 1
        repaid += q.repaid * market.assets[d].price
        seized += q.seized * market.assets[c].price
        fee += q.protocol_fee * market.assets[c].price
        for a, units in market.deficit.items():
            written += (units - before.get(a, ZERO)) * market.assets[a].price
    h = account_health(market.account(account_id), market)
    residual = max(ZERO, h.debt_value - h.collateral_value)
    return ExactOutcome(written, residual, repaid, seized, fee, n)


def run_one_step(book: SimBook, eth: float) -> tuple[PathOutcome, PerpDesk]:
    """One path, one step at WETH ``eth``: the outcome and the engine's desk after it."""
    exo = book.price[None, None, :].copy()
    exo[0, 0, book.asset_index("WETH")] = eth
    desks: list[PerpDesk] = []
    original = PerpDesk.__init__

    def keep(self: PerpDesk, *a: object, **k: object) -> None:
        original(self, *a, **k)  # type: ignore[arg-type]
        desks.append(self)

    PerpDesk.__init__ = keep  # type: ignore[method-assign]
    try:
        out, _ = PathEngine(book).run(exo)
    finally:
        PerpDesk.__init__ = original  # type: ignore[method-assign]
    return out, desks[0]
