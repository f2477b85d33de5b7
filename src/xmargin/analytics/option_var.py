"""Option books in the Monte Carlo: their value at the horizon on each path, with a
volatility path, and the VaR and ES of what they lose (contract 6; issue 14 item 4).

The bad-debt figures count option accounts' health with their options
(:mod:`xmargin.analytics.simoptions`); this block reports what the options themselves
lose: an option account's positions are valued here with the float rules
(:mod:`xmargin.fast.options`), on the same seeded draws (:func:`~xmargin.analytics.
montecarlo.draw_paths`, chunk by chunk as the one-step engine draws them).

**Volatility path.** Implied volatility moves against spot (the leverage effect): at the
horizon each option's σ becomes σ·(S_T/S_0)^(−ε), ε the ``elasticity`` (>= 0; 0 keeps σ;
1: a 20 % fall raises σ by 25 %); an option's forward follows spot (F·S_T/S_0, 6.1) and
time runs: τ shrinks by the horizon (an option expiring inside it pays max(0, ±(S_T − K))).

**Figures** per path, over the accounts that hold an option:

- ``option_loss``: −Σ q·(V_T − V_0), what the options lose (a gain is negative);
- ``shortfall``: Σ max(0, −(Σ (supply − borrow)·S_T + Σ q·V_T)): what the option accounts
  could not pay if closed at the horizon — their bad debt, before any liquidation.

VaR_α and ES_α as :func:`~xmargin.analytics.risk_figures.risk_figures` (seeded bootstrap
standard errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.montecarlo import MonteCarloConfig, chunk_layout, chunk_size, draw_paths
from xmargin.analytics.return_models import ReturnModel
from xmargin.analytics.risk_figures import RiskFigure, risk_figures
from xmargin.analytics.simbook import SimBook
from xmargin.errors import InputError
from xmargin.fast import option_packing as fop
from xmargin.fast import options as fo
from xmargin.model.market import Market

__all__ = ["OptionBook", "OptionVar", "option_var", "parse_elasticity"]

FloatArray = NDArray[np.float64]
_YEAR_HOURS = 365.0 * 24.0
#: Legs priced at once by :func:`option_var` (paths × legs of the book): ~100 MB of table.
_BLOCK_LEGS = 1 << 20


def parse_elasticity(value: float) -> float:
    """``--vol-elasticity``: a finite number >= 0."""
    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"--vol-elasticity: must be a number >= 0, was {value}")
    return float(value)


@dataclass(frozen=True)
class OptionBook:
    """The option accounts of a market, packed: every leg (rows of the leg table, CSR by
    account), the book column of each leg's underlying, and each account's net units per
    book asset (supply − borrow)."""

    accounts: tuple[str, ...]
    legs: FloatArray
    ptr: NDArray[np.int64]
    under: NDArray[np.int64]
    net_units: FloatArray

    @classmethod
    def from_market(cls, market: Market, book: SimBook) -> OptionBook:
        ids = tuple(a for a, acc in market.accounts.items() if acc.options)
        tables = [fop.pack_legs(market.accounts[a], market) for a in ids]
        ptr = np.zeros(len(ids) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(t) for t in tables])
        legs = np.vstack(tables) if tables else np.zeros((0, len(fo.LEG_COLUMNS)))
        under = np.array(
            [
                book.asset_index(market.options[name].underlying)
                for a in ids
                for name in _leg_names(market, a)
            ],
            dtype=np.int64,
        )
        net = np.zeros((len(ids), book.n_assets))
        for i, a in enumerate(ids):
            acc = market.accounts[a]
            for sym in dict.fromkeys([*acc.supply, *acc.borrow]):
                net[i, book.asset_index(sym)] = float(acc.supplied(sym) - acc.borrowed(sym))
        return cls(ids, legs, ptr, under, net)

    def values(self, prices: FloatArray, spot0: FloatArray, hours: float, eps: float) -> FloatArray:
        """Per account, Σ q·V of its legs at ``prices`` (one path's, per book asset), after
        ``hours`` with volatility elasticity ``eps``."""
        one: FloatArray = self.values_on_paths(prices[np.newaxis, :], spot0, hours, eps)[0]
        return one

    def values_on_paths(
        self, prices: FloatArray, spot0: FloatArray, hours: float, eps: float
    ) -> FloatArray:
        """:meth:`values` on many paths at once: ``prices`` (paths, book assets) → (paths,
        accounts). Each leg is priced as on its own (the rules are elementwise), so a path's
        row equals :meth:`values` of that path bit for bit."""
        n, nl = len(prices), len(self.legs)
        if not nl:
            return np.zeros((n, len(self.accounts)))
        legs = np.repeat(self.legs[np.newaxis, :, :], n, axis=0)  # (paths, legs, columns)
        ratio = prices[:, self.under] / spot0[self.under]
        legs[:, :, fo.SPOT] *= ratio
        legs[:, :, fo.FORWARD] *= ratio
        legs[:, :, fo.SIGMA] *= ratio ** (-eps)
        dt = hours / _YEAR_HOURS
        alive = legs[:, :, fo.TAU] > dt
        rate = legs[:, :, fo.RATE]
        legs[:, :, fo.TAU] = np.where(alive, legs[:, :, fo.TAU] - dt, 0.0)
        legs[:, :, fo.DISCOUNT] = np.where(alive, np.exp(-rate * legs[:, :, fo.TAU]), 1.0)
        legs[:, :, fo.FORWARD] = np.where(alive, legs[:, :, fo.FORWARD], legs[:, :, fo.SPOT])
        flat = legs.reshape(n * nl, -1)
        fop.price_legs(flat)
        per_leg = (flat[:, fo.Q] * flat[:, fo.VALUE]).reshape(n, nl)
        out: FloatArray = np.add.reduceat(per_leg, self.ptr[:-1], axis=1)
        return out


def _leg_names(market: Market, account: str) -> list[str]:
    """The account's option names in the order :func:`~xmargin.fast.option_packing.
    pack_legs` writes its rows (by expiry group, first held first)."""
    groups: dict[object, list[str]] = {}
    for name in market.accounts[account].options:
        groups.setdefault(market.options[name].expiry_key(), []).append(name)
    return [n for names in groups.values() for n in names]


@dataclass(frozen=True)
class OptionVar:
    """The option block of a Monte Carlo: per-path figures, their VaR and ES."""

    accounts: int
    elasticity: float
    option_value: float
    option_loss: FloatArray
    shortfall: FloatArray
    figures: dict[str, dict[str, RiskFigure]]


def option_var(
    market: Market,
    book: SimBook,
    model: ReturnModel,
    cfg: MonteCarloConfig,
    elasticity: float,
) -> OptionVar | None:
    """The option block of a Monte Carlo run on ``book`` (module docstring); ``None`` when
    no account holds an option."""
    ob = OptionBook.from_market(market, book)
    if not ob.accounts:
        return None
    spot0 = book.price
    v0 = ob.values(spot0, spot0, 0.0, 0.0)
    loss = np.empty(cfg.n_paths)
    short = np.empty(cfg.n_paths)
    size = chunk_size(book.n_accounts, True)  # the one-step engine's draws, path for path
    # Paths priced together in blocks of about _BLOCK_LEGS legs (memory stays bounded).
    block = max(1, _BLOCK_LEGS // max(1, len(ob.legs)))
    for c, (first, n) in enumerate(chunk_layout(cfg.n_paths, book.n_accounts, True)):
        prices = draw_paths(book, model, cfg, c, n, size)[:, -1, :]
        for k in range(0, n, block):
            p = prices[k : k + block]
            v = ob.values_on_paths(p, spot0, cfg.horizon_hours, elasticity)
            loss[first + k : first + k + len(p)] = -np.sum(v - v0, axis=1)
            net = p @ ob.net_units.T + v
            short[first + k : first + k + len(p)] = np.maximum(-net, 0.0).sum(axis=1)
    figures = {
        "option_loss": risk_figures(loss, cfg.levels, cfg.seed, cfg.bootstrap),
        "shortfall": risk_figures(short, cfg.levels, cfg.seed, cfg.bootstrap),
    }
    return OptionVar(len(ob.accounts), elasticity, float(v0.sum()), loss, short, figures)
