"""The option positions of a simulation book, re-priced on each path, and what they add
to their accounts' section-2 sums (contract 6.1, 6.2; issue 14 items 4-5).

Every position is a row of one leg table (:data:`xmargin.fast.options.LEG_COLUMNS`,
packed by :func:`xmargin.fast.option_packing.pack_legs` from the exact engine's τ, D and
F), the rows of an account contiguous and, inside it, grouped by expiry. At simulated
asset prices S' a leg's spot and forward follow its underlying (F·S'/S, 6.1); with a
volatility path σ becomes σ·(S'/S)^(−ε) (``elasticity``, the Monte Carlo's model of
:mod:`xmargin.analytics.option_var`); ``hours`` later τ has shrunk by them (an option
expiring inside is worth its settlement value against S'). The value is the float
Black-76 and the terms the float standard margin
(:func:`xmargin.fast.options.standard_option_sums`), the exact engine's twins.

**Portfolio margin.** An account under ``margin = "portfolio"`` (6.3/6.6) is margined
by portfolio margin's float twin instead (:mod:`.simportfolio`, :attr:`SimOptions.
margined`): its terms (ic, id, mc, md) are the scenario requirement's at the path's prices,
time and volatility, and the book values its balances of the scenario underlyings at full
value and its perps without notional margin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.option_lanes import option_terms
from xmargin.analytics.simportfolio import SimPortfolio
from xmargin.fast import option_packing as fop
from xmargin.fast import options as fo
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod

if TYPE_CHECKING:
    from xmargin.analytics.simperps import SimPerps

__all__ = ["YEAR_HOURS", "SimOptions"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
YEAR_HOURS = 365.0 * 24.0


@dataclass(frozen=True, eq=False)
class SimOptions:
    """Option positions of a book's accounts (module docstring).

    ``legs``: the leg table today, rows CSR by held account (``ptr`` over ``held``, the
    book rows of the accounts holding an option, sorted); per leg its option's name,
    the book columns of its underlying and settlement asset, its liquidation and
    insurance fees and the underlying's decimals; ``today``: the asset prices the legs
    were packed at; ``pm``: ``[option_margin]`` packed; ``portfolio``: per held account,
    whether it is under portfolio margin; ``margined``: those accounts' scenario units
    (:mod:`.simportfolio`), ``None`` when none is."""

    legs: FloatArray
    held: IntArray
    ptr: IntArray
    names: tuple[str, ...]
    under: IntArray
    settle: IntArray
    liquidation_fee: FloatArray
    insurance_fee: FloatArray
    decimals: IntArray
    today: FloatArray
    pm: FloatArray
    portfolio: NDArray[np.bool_]
    margined: SimPortfolio | None = None

    @property
    def n_legs(self) -> int:
        return len(self.legs)

    @property
    def leg_account(self) -> IntArray:
        """Per leg, its account's index in :attr:`held`."""
        out: IntArray = np.repeat(np.arange(len(self.held), dtype=np.int64), np.diff(self.ptr))
        return out

    def moved(
        self,
        prices: FloatArray,
        hours: float = 0.0,
        elasticity: float = 0.0,
        q: FloatArray | None = None,
    ) -> FloatArray:
        """The leg tables at ``prices`` (paths x assets): shape (paths, legs, columns),
        re-priced, ``hours`` later with volatility elasticity ``elasticity``; ``q``
        (paths x legs) replaces the contracts held."""
        p = np.atleast_2d(np.asarray(prices, np.float64))
        legs = np.repeat(self.legs[None], p.shape[0], axis=0)
        with np.errstate(all="ignore"):
            ratio = p[:, self.under] / self.today[self.under]
        legs[:, :, fo.SPOT] *= ratio
        legs[:, :, fo.FORWARD] *= ratio
        if elasticity:
            legs[:, :, fo.SIGMA] *= ratio ** (-elasticity)
        if hours:
            dt = hours / YEAR_HOURS
            alive = legs[:, :, fo.TAU] > dt
            tau = np.where(alive, legs[:, :, fo.TAU] - dt, 0.0)
            legs[:, :, fo.TAU] = tau
            seconds = legs[:, :, fo.SECONDS] - hours * 3600.0
            legs[:, :, fo.SECONDS] = np.where(alive, seconds, 0.0)
            legs[:, :, fo.DISCOUNT] = np.where(alive, np.exp(-legs[:, :, fo.RATE] * tau), 1.0)
            legs[:, :, fo.FORWARD] = np.where(alive, legs[:, :, fo.FORWARD], legs[:, :, fo.SPOT])
        if q is not None:
            legs[:, :, fo.Q] = q
        flat = legs.reshape(-1, legs.shape[2])
        fop.price_legs(flat)
        return flat.reshape(legs.shape)

    def terms(
        self,
        prices: FloatArray,
        hours: float = 0.0,
        elasticity: float = 0.0,
        q: FloatArray | None = None,
        supplied: FloatArray | None = None,
        borrowed: FloatArray | None = None,
        perp_q: FloatArray | None = None,
    ) -> FloatArray:
        """(cv, dv, ic, id, mc, md, option_value) of every held account at each row of
        ``prices``: shape (7, paths, held) (standard margin, 6.2, all paths at once,
        :mod:`.option_lanes`; portfolio margin's terms for the accounts under it,
        :mod:`.simportfolio`, with ``supplied``, ``borrowed`` (paths x units) and
        ``perp_q`` (paths x perp positions), today's by default)."""
        legs = self.moved(prices, hours, elasticity, q)
        out = option_terms(legs, self.ptr, self.pm)
        pm = self.margined
        if pm is not None:
            p = np.atleast_2d(np.asarray(prices, np.float64))
            g = pm.requirements(legs, p, supplied, borrowed, perp_q)
            out[2:6, :, pm.accounts] = 0.0  # the scenarios replace standard margin
            out[2:6] += pm.margin_terms(g, len(self.held))
        return out

    def sums(
        self, prices: FloatArray, n_accounts: int, hours: float = 0.0, elasticity: float = 0.0
    ) -> FloatArray:
        """:meth:`terms` scattered over the book's ``n_accounts`` rows (zero for the
        accounts holding no option): (7, n_accounts) for one price vector, else
        (7, paths, n_accounts)."""
        t = self.terms(prices, hours, elasticity)
        out = np.zeros((7, t.shape[1], n_accounts))
        out[:, :, self.held] = t
        res: FloatArray = out if np.ndim(prices) == 2 else out[:, 0]
        return res

    def with_vol_shocks(self, shocks: Mapping[int, float]) -> SimOptions:
        """The same positions with σ → σ·(1 + x) (floored at 0) on the legs whose
        underlying is at book column ``col`` for each ``col: x`` (6.5), re-priced."""
        legs = self.legs.copy()
        for col, x in shocks.items():
            on = self.under == col
            legs[on, fo.SIGMA] = np.maximum(legs[on, fo.SIGMA] * (1.0 + float(x)), 0.0)
        fop.price_legs(legs)
        return replace(self, legs=legs)

    @classmethod
    def of_market(
        cls,
        market: Market,
        ids: Sequence[str],
        asset_index: dict[str, int],
        today: FloatArray,
        perps: SimPerps | None = None,
    ) -> SimOptions | None:
        """The option positions of accounts ``ids`` of ``market`` (rows in that order);
        ``None`` when none holds one. ``perps``: the book's perp positions (those of a
        portfolio-margined account enter its scenarios)."""
        held = [r for r, a in enumerate(ids) if market.account(a).options]
        if not held:
            return None
        tables, names = [], []
        for r in held:
            acc = market.account(ids[r])
            tables.append(fop.pack_legs(acc, market))
            names.extend(_leg_names(market, ids[r]))
        legs = np.vstack(tables)
        ptr = np.zeros(len(held) + 1, np.int64)
        np.cumsum([len(t) for t in tables], out=ptr[1:])
        opts = [market.options[n] for n in names]
        under = np.array([asset_index[o.underlying] for o in opts], np.int64)
        held_rows = np.array(held, np.int64)
        return cls(
            legs=legs,
            held=held_rows,
            ptr=ptr,
            names=tuple(names),
            under=under,
            settle=np.array([asset_index[o.settlement_asset] for o in opts], np.int64),
            liquidation_fee=np.array([float(o.liquidation_fee) for o in opts]),
            insurance_fee=np.array([float(o.insurance_fee) for o in opts]),
            decimals=np.array([market.assets[o.underlying].decimals for o in opts], np.int64),
            today=np.asarray(today, np.float64).copy(),
            pm=fop.pack_option_margin(market.option_margin),
            portfolio=np.array(
                [market.account(ids[r]).margin is MarginMethod.PORTFOLIO for r in held],
                np.bool_,
            ),
            margined=SimPortfolio.of_market(market, ids, held_rows, ptr, under, asset_index, perps),
        )


def _leg_names(market: Market, account: str) -> list[str]:
    """The account's option names in the order :func:`~xmargin.fast.option_packing.
    pack_legs` writes its rows (by expiry group, first held first)."""
    groups: dict[object, list[str]] = {}
    for name in market.account(account).options:
        groups.setdefault(market.options[name].expiry_key(), []).append(name)
    return [n for names in groups.values() for n in names]
