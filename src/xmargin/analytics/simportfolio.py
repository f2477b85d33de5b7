"""Portfolio-margined option accounts in the simulations (contract 6.3, docs/contract.md
6.5 "Simulations with options"): their margin on every path by the float twin of portfolio
margin, :func:`xmargin.fast.portfolio_margin.portfolio_margin` (the risk book's rule,
:mod:`xmargin.book.portfolio_screen`).

An account under ``margin = "portfolio"`` holding options is margined as the exact engine
does (:func:`xmargin.risk.portfolio_margin.portfolio_sums`), one *unit* per (account,
scenario underlying U):

- the balance of U at full value (the simulation book gives those entries weight 1, no
  size haircut: :meth:`SimPortfolio.entries`), its perps' PnL as 5.2 but no notional
  margin (:meth:`SimPortfolio.perp_positions`: the scenarios replace it);
- G = R + Σ mtm of U's options, from the twin over the unit's legs at the path's prices
  (forward, σ and τ as :meth:`xmargin.analytics.simoptions.SimOptions.moved` gives them),
  the unit's linear value (s − b)·S + Σ q·P of its perps, Σ|q| of its perps and its
  supply of U: max(G, 0) to the collateral side, max(−G, 0) to the debt side, IM and MM
  each with its own R (these replace the standard-margin terms of 6.2).

Only the portfolio-margined accounts pay for it (usually few); one kernel runs the twin
on every (path, unit): with Numba about 6 µs a (path, unit) of three legs on two expiries
(benchmarks/sim_portfolio.py). Without Numba the same rule runs per (path, unit) in
Python (the twin branches on values, as the risk book's NumPy path runs it per row),
about 1.4 ms each: a fallback, not a speed. A portfolio-margined account holding perps
and no option has its units too, with no legs (:attr:`xmargin.analytics.simperps.
SimPerps.margined`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from xmargin.fast import option_packing as fop
from xmargin.fast import portfolio_margin as fpm
from xmargin.fast.backend import Backend, jit, per_backend
from xmargin.model.market import Market
from xmargin.risk.options import portfolio_underlyings

if TYPE_CHECKING:
    from xmargin.analytics.simperps import SimPerps

__all__ = ["SimPortfolio"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _numba_run() -> Any:
    @jit()
    def run(legs: Any, uptr: Any, spot: Any, linear: Any, units: Any, supplied: Any, hc: Any,
            pp: Any, scen: Any, out: Any) -> None:  # fmt: skip  # pragma: no cover
        for p in range(legs.shape[0]):
            table = legs[p]
            for u in range(uptr.shape[0] - 1):
                got = fpm.portfolio_margin(
                    table, uptr[u], uptr[u + 1], spot[p, u], linear[p, u], units[p, u],
                    supplied[p, u], hc[u], pp, scen,
                )  # fmt: skip
                out[0, p, u] = got[6] + got[7]
                out[1, p, u] = got[5] + got[7]
                out[2, p, u] = got[7]

    return run


def _numpy_run(legs: Any, uptr: Any, spot: Any, linear: Any, units: Any, supplied: Any,
               hc: Any, pp: Any, scen: Any, out: Any) -> None:  # fmt: skip
    for p in range(legs.shape[0]):
        for u in range(len(uptr) - 1):
            got = fpm.portfolio_margin(
                legs[p], int(uptr[u]), int(uptr[u + 1]), float(spot[p, u]),
                float(linear[p, u]), float(units[p, u]), float(supplied[p, u]), hc[u], pp, scen,
            )  # fmt: skip
            out[0, p, u] = got[6] + got[7]
            out[1, p, u] = got[5] + got[7]
            out[2, p, u] = got[7]


_run = per_backend(lambda b: _numba_run() if b == "numba" else _numpy_run)


@dataclass(frozen=True, eq=False)
class SimPortfolio:
    """The units of a simulation book's portfolio-margined option accounts (module
    docstring). Accounts are indices ``k`` into the option accounts
    (:attr:`xmargin.analytics.simoptions.SimOptions.held`); per unit: its account, the
    book column of U, its legs (indices into the option leg table, CSR by ``uptr``,
    expiries contiguous), its (maintenance, initial) haircut and today's supply and borrow
    of U; per perp position of a unit: the position (index into the book's
    :class:`~xmargin.analytics.simperps.SimPerps`), its perp and its unit."""

    accounts: IntArray
    unit_account: IntArray
    unit_col: IntArray
    uptr: IntArray
    uleg: IntArray
    haircuts: FloatArray
    supplied: FloatArray
    borrowed: FloatArray
    pos: IntArray
    pos_perp: IntArray
    pos_unit: IntArray
    perps: SimPerps | None
    pp: FloatArray
    scen: FloatArray

    @property
    def n_units(self) -> int:
        return len(self.unit_account)

    def entries(self, held_rows: IntArray) -> tuple[IntArray, IntArray]:
        """(book rows, asset columns) of the balances valued at full value (the option
        accounts' book rows ``held_rows``)."""
        return held_rows[self.unit_account], self.unit_col

    def with_balances(
        self, held_rows: IntArray, indptr: IntArray, col: IntArray, s: FloatArray, b: FloatArray
    ) -> SimPortfolio:
        """The same units with today's supply and borrow of U read from a book's entries
        (``indptr``, ``col``, ``s``, ``b``; the option accounts' rows ``held_rows``)."""
        supplied, borrowed = np.zeros(self.n_units), np.zeros(self.n_units)
        for u, (r, c) in enumerate(zip(*self.entries(held_rows), strict=True)):
            lo, hi = int(indptr[r]), int(indptr[r + 1])
            at = np.flatnonzero(col[lo:hi] == c)
            if at.size:
                supplied[u], borrowed[u] = s[lo + at[0]], b[lo + at[0]]
        return replace(self, supplied=supplied, borrowed=borrowed)

    def perp_positions(self, held_rows: IntArray) -> IntArray:
        """The perp positions whose notional margin the scenarios replace: every position
        of a portfolio-margined account (rows of ``held_rows``)."""
        if self.perps is None:
            return np.zeros(0, np.int64)
        rows = held_rows[self.accounts]
        out: IntArray = np.flatnonzero(np.isin(self.perps.row, rows)).astype(np.int64)
        return out

    def requirements(
        self,
        legs: FloatArray,
        prices: FloatArray,
        supplied: FloatArray | None = None,
        borrowed: FloatArray | None = None,
        perp_q: FloatArray | None = None,
        backend: Backend = "auto",
    ) -> FloatArray:
        """(R_IM + Σ mtm, R_MM + Σ mtm, Σ mtm) of every unit on every path: (3, paths,
        units). ``legs``: the option leg tables at the paths' prices (paths x legs x
        columns, :meth:`SimOptions.moved`); ``prices`` (paths x assets); ``supplied``,
        ``borrowed`` (paths x units) and ``perp_q`` (paths x the book's perp positions):
        the balances of U and the perp sizes, today's by default."""
        n_paths = legs.shape[0]
        spot = prices[:, self.unit_col]
        s = np.broadcast_to(self.supplied if supplied is None else supplied, spot.shape)
        b = np.broadcast_to(self.borrowed if borrowed is None else borrowed, spot.shape)
        linear = (s - b) * spot
        units = np.zeros_like(spot)
        if self.pos.size and self.perps is not None:
            q = self.perps.size[self.pos] if perp_q is None else perp_q[:, self.pos]
            q = np.broadcast_to(q, (n_paths, self.pos.size))
            price = self.perps.prices(prices)[:, self.pos_perp]
            for i, u in enumerate(self.pos_unit.tolist()):
                linear[:, u] += q[:, i] * price[:, i]
                units[:, u] += np.abs(q[:, i])
        table = np.ascontiguousarray(legs[:, self.uleg])
        out = np.zeros((3, n_paths, self.n_units))
        _run(backend)(
            table, self.uptr, np.ascontiguousarray(spot), linear, units,
            np.ascontiguousarray(s), self.haircuts, self.pp, self.scen, out,
        )  # fmt: skip
        return out

    def margin_terms(self, g: FloatArray, n_held: int) -> FloatArray:
        """(ic, id, mc, md) per option account from :meth:`requirements`' ``g``: (4,
        paths, n_held), each unit's G_IM and G_MM to the collateral side when positive,
        else to the debt side."""
        out = np.zeros((4, g.shape[1], n_held))
        for u, k in enumerate(self.unit_account.tolist()):
            g_im, g_mm = g[0, :, u], g[1, :, u]
            out[0, :, k] += np.maximum(g_im, 0.0)
            out[1, :, k] -= np.minimum(g_im, 0.0)
            out[2, :, k] += np.maximum(g_mm, 0.0)
            out[3, :, k] -= np.minimum(g_mm, 0.0)
        return out

    def account_margin(
        self,
        k: int,
        rows: FloatArray,
        lo: int,
        prices: FloatArray,
        supplied: FloatArray,
        borrowed: FloatArray,
        perp_q: FloatArray | None,
    ) -> tuple[float, float]:
        """(mc, md) terms of option account ``k`` alone on one path (a liquidation's
        trial): ``rows`` its leg rows (from leg ``lo``) with the contracts held now;
        ``prices``, ``supplied``, ``borrowed`` per asset; ``perp_q`` per perp position."""
        mine = np.flatnonzero(self.unit_account == k)
        if not mine.size:
            return 0.0, 0.0
        u0, u1 = int(mine[0]), int(mine[-1]) + 1
        part = SimPortfolio(
            self.accounts, self.unit_account[u0:u1], self.unit_col[u0:u1],
            self.uptr[u0 : u1 + 1] - self.uptr[u0], self.uleg[self.uptr[u0] : self.uptr[u1]] - lo,
            self.haircuts[u0:u1], supplied[self.unit_col[u0:u1]],
            borrowed[self.unit_col[u0:u1]], self.pos[(self.pos_unit >= u0) & (self.pos_unit < u1)],
            self.pos_perp[(self.pos_unit >= u0) & (self.pos_unit < u1)],
            self.pos_unit[(self.pos_unit >= u0) & (self.pos_unit < u1)] - u0, self.perps,
            self.pp, self.scen,
        )  # fmt: skip
        q = None if perp_q is None else perp_q[None]
        g = part.requirements(rows[None], prices[None], perp_q=q)
        t = part.margin_terms(g, k + 1)[:, 0, k]
        return float(t[2]), float(t[3])

    @classmethod
    def of_market(
        cls,
        market: Market,
        ids: Sequence[str],
        held: IntArray,
        ptr: IntArray,
        under: IntArray,
        asset_index: dict[str, int],
        perps: SimPerps | None,
    ) -> SimPortfolio | None:
        """The units of the portfolio-margined accounts among the option accounts (book
        rows ``held`` of accounts ``ids``, legs CSR by ``ptr``, their underlyings'
        columns ``under``); ``None`` when none is."""
        accounts: list[int] = []
        unit_account: list[int] = []
        unit_col: list[int] = []
        uleg: list[int] = []
        sizes: list[int] = []
        pos: list[int] = []
        pos_unit: list[int] = []
        hc: list[NDArray[np.float64]] = []
        supplied: list[float] = []
        borrowed: list[float] = []
        p = market.portfolio_margin
        for k, r in enumerate(held.tolist()):
            acc = market.account(ids[r])
            scenario = portfolio_underlyings(acc, market)
            if not scenario:
                continue
            accounts.append(k)
            for u in sorted(scenario):
                col = asset_index[u]
                lo, hi = int(ptr[k]), int(ptr[k + 1])
                mine = [i for i in range(lo, hi) if int(under[i]) == col]
                unit = len(unit_account)
                unit_account.append(k)
                unit_col.append(col)
                uleg.extend(mine)
                sizes.append(len(mine))
                hc.append(fop.pack_haircuts(p, u))
                supplied.append(float(acc.supplied(u)))
                borrowed.append(float(acc.borrowed(u)))
                if perps is not None:
                    for i in np.flatnonzero(perps.row == r).tolist():
                        if int(perps.tables.underlying[perps.perp[i]]) == col:
                            pos.append(i)
                            pos_unit.append(unit)
        if not accounts:
            return None
        uptr = np.zeros(len(sizes) + 1, np.int64)
        np.cumsum(sizes, out=uptr[1:])
        pos_a = np.array(pos, np.int64)
        return cls(
            accounts=np.array(accounts, np.int64),
            unit_account=np.array(unit_account, np.int64),
            unit_col=np.array(unit_col, np.int64),
            uptr=uptr,
            uleg=np.array(uleg, np.int64),
            haircuts=np.array(hc, np.float64).reshape(-1, 2),
            supplied=np.array(supplied, np.float64),
            borrowed=np.array(borrowed, np.float64),
            pos=pos_a,
            pos_perp=perps.perp[pos_a] if perps is not None else pos_a.copy(),
            pos_unit=np.array(pos_unit, np.int64),
            perps=perps,
            pp=fop.pack_portfolio_margin(p),
            scen=fop.pack_scenarios(p),
        )
