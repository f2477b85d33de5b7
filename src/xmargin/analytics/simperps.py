"""The perp positions of a simulation book, and what they add to its accounts' sums.

Long form, one row per (account, perp) position sorted by account: the perp (index in
the market's :class:`~xmargin.fast.perp_packing.PerpTables`), the signed size q, the
entry price E and the entry funding index f. A perp moves with its underlying: at
simulated asset prices S' its oracle P is S' (a mark price, where one is given, follows
it proportionally, M·S'/S, as :meth:`xmargin.model.market.Market.with_prices` does), and
the funding index F is held fixed over a one-step horizon. Every term comes from the
float twins of :mod:`xmargin.fast.perps`, so a simulated account's figures are the exact
engine's (:func:`xmargin.risk.perps.perp_sums`) at the simulated prices, in float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from xmargin.errors import InputError
from xmargin.fast.options import LEG_COLUMNS
from xmargin.fast.perp_packing import PerpTables
from xmargin.fast.perps import cap_initial_pnl, perp_sums
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod

if TYPE_CHECKING:
    from xmargin.analytics.simoptions import SimOptions
    from xmargin.analytics.simportfolio import SimPortfolio

__all__ = ["SimPerps", "parse_funding_rates"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class SimPerps:
    """Perp positions of a book's accounts (module docstring); ``today``: the asset
    prices the mark prices were given at."""

    tables: PerpTables
    today: FloatArray
    row: IntArray
    perp: IntArray
    size: FloatArray
    entry: FloatArray
    entry_index: FloatArray
    #: positions whose notional margin portfolio margin's scenarios replace (6.3:
    #: those of a portfolio-margined account, :mod:`.simportfolio`); ``None``: none
    unmargined: NDArray[np.bool_] | None = None
    #: the scenario units of the portfolio-margined accounts holding perps and no option
    #: (:mod:`.simportfolio`; those holding an option are the option terms'), and their
    #: book rows
    margined: SimPortfolio | None = None
    margined_rows: IntArray | None = None

    @property
    def n_positions(self) -> int:
        return len(self.row)

    def accounts(self) -> IntArray:
        """Rows of the accounts that hold a position (sorted, unique)."""
        out: IntArray = np.unique(self.row)
        return out

    def prices(self, asset_prices: FloatArray) -> FloatArray:
        """P per perp at asset prices ``asset_prices`` (last axis: assets)."""
        t = self.tables
        under = asset_prices[..., t.underlying]
        with np.errstate(all="ignore"):
            moved = t.mark_price * under / self.today[t.underlying]
        out: FloatArray = np.where(np.isnan(t.mark_price), under, moved)
        return out

    def margin_rates(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(initial, maintenance margin, size factor) per position: zero for the
        :attr:`unmargined` ones, whose notional margin is then zero."""
        t, j = self.tables, self.perp
        r_i, r_m, k = t.initial_margin[j], t.maintenance_margin[j], t.size_factor[j]
        if self.unmargined is None:
            return r_i, r_m, k
        keep = ~self.unmargined
        return r_i * keep, r_m * keep, k * keep

    def sums(self, asset_prices: FloatArray, n_accounts: int) -> FloatArray:
        """(cv, dv, ic, id, mc, md) perp terms per account at ``asset_prices`` (one
        vector, or one row per path): shape (6, n_accounts) or (6, paths, n_accounts);
        the initial PnL capped per account (``pnl_initial_cap``)."""
        p = np.atleast_2d(np.asarray(asset_prices, np.float64))
        t, j = self.tables, self.perp
        price = self.prices(p)[:, j]
        r_i, r_m, k_size = self.margin_rates()
        terms = perp_sums(
            self.size,
            price,
            self.entry,
            t.funding_index[j],
            self.entry_index,
            r_i,
            r_m,
            k_size,
            t.pnl_initial_weight[j],
        )
        out = np.zeros((6, p.shape[0], n_accounts))
        for k, term in enumerate(terms):
            per_path = np.broadcast_to(term, price.shape)
            for i in range(p.shape[0]):
                out[k, i] = np.bincount(self.row, weights=per_path[i], minlength=n_accounts)
        out[2] = cap_initial_pnl(out[2], t.cap)
        if self.margined is not None and self.margined_rows is not None:
            out[2:6][:, :, self.margined_rows] += self.portfolio_terms(p)
        res: FloatArray = out if np.ndim(asset_prices) == 2 else out[:, 0]
        return res

    def portfolio_terms(
        self,
        asset_prices: FloatArray,
        supplied: FloatArray | None = None,
        borrowed: FloatArray | None = None,
        q: FloatArray | None = None,
    ) -> FloatArray:
        """(ic, id, mc, md) of portfolio margin's requirement of :attr:`margined`'s
        accounts (paths x assets ``asset_prices``; balances of the units' underlyings and
        perp sizes per path, today's by default): (4, paths, accounts)."""
        pm = self.margined
        assert pm is not None and self.margined_rows is not None
        no_legs = np.zeros((asset_prices.shape[0], 0, len(LEG_COLUMNS)))
        g = pm.requirements(no_legs, asset_prices, supplied, borrowed, q)
        return pm.margin_terms(g, len(self.margined_rows))

    def with_portfolio(
        self,
        market: Market,
        ids: Sequence[str],
        asset_index: dict[str, int],
        options: SimOptions | None,
    ) -> SimPerps:
        """The same positions with portfolio margin's (6.3): the positions of every
        portfolio-margined account lose their notional margin (:attr:`unmargined`) and
        the accounts holding no option get their scenario units (:attr:`margined`)."""
        from xmargin.analytics.simportfolio import SimPortfolio

        rows = np.array(
            [
                r
                for r in self.accounts().tolist()
                if market.account(ids[r]).margin is MarginMethod.PORTFOLIO
                and not market.account(ids[r]).options
            ],
            np.int64,
        )
        alone = None
        if rows.size:
            none = np.zeros(0, np.int64)
            ptr = np.zeros(len(rows) + 1, np.int64)
            alone = SimPortfolio.of_market(market, ids, rows, ptr, none, asset_index, self)
        off = np.zeros(self.n_positions, np.bool_)
        if alone is not None:
            off[alone.perp_positions(rows)] = True
        if options is not None and options.margined is not None:
            off[options.margined.perp_positions(options.held)] = True
        if not off.any():
            return self
        return replace(self, unmargined=off, margined=alone, margined_rows=rows)

    def funding_per_step(self, rates: dict[str, float], step_hours: float) -> FloatArray:
        """Per perp, the fraction of P added to F each step, from rates per hour."""
        out = np.zeros(len(self.tables))
        for name, rate in rates.items():
            out[self.tables.index_of(name)] = rate * step_hours
        return out

    @classmethod
    def empty(cls, today: FloatArray) -> SimPerps:
        """No position (a cascade desk carrying option accounts of a book without perps)."""
        none = np.zeros(0, np.int64)
        tables = PerpTables.of({}, {}, None)
        z = np.zeros(0)
        return cls(tables, np.asarray(today, np.float64), none, none.copy(), z, z.copy(), z.copy())

    @classmethod
    def of_market(
        cls, market: Market, ids: list[str], asset_index: dict[str, int], today: FloatArray
    ) -> SimPerps:
        """The positions of accounts ``ids`` of ``market`` (rows in that order)."""
        tables = PerpTables.of(market.perps, asset_index, market.params.pnl_initial_cap)
        rows: list[int] = []
        perp: list[int] = []
        vals: list[tuple[float, float, float]] = []
        for r, acc_id in enumerate(ids):
            for name, pos in sorted(market.account(acc_id).perps.items()):
                rows.append(r)
                perp.append(tables.index_of(name))
                vals.append((float(pos.size), float(pos.entry_price), float(pos.funding_index)))
        v = np.array(vals, np.float64).reshape(-1, 3)
        return cls(
            tables,
            np.asarray(today, np.float64),
            np.array(rows, np.int64),
            np.array(perp, np.int64),
            v[:, 0].copy(),
            v[:, 1].copy(),
            v[:, 2].copy(),
        )


def parse_funding_rates(specs: Sequence[str], names: Sequence[str]) -> dict[str, float]:
    """``PERP=RATE/PERIOD`` options (``ETH-PERP=0.01%/h``, ``BTC-PERP=-0.1%/8h``) as a
    rate per hour per perp: each step F rises by rate x hours x P (a positive rate: longs
    pay shorts). :class:`~xmargin.errors.InputError` naming the option otherwise."""
    from xmargin.analytics.prices import parse_duration_hours
    from xmargin.analytics.scenario_file import fraction_of

    out: dict[str, float] = {}
    for spec in specs:
        where = f"--funding-rate {spec!r}"
        name, eq, rest = spec.partition("=")
        rate, slash, period = rest.partition("/")
        if not eq or not slash or not name.strip():
            raise InputError(f"{where}: expected PERP=RATE/PERIOD, e.g. ETH-PERP=0.01%/h")
        name = name.strip()
        if name not in names:
            known = ", ".join(names) if names else "none"
            raise InputError(f"{where}: unknown perp {name!r}; the book's perps: {known}")
        try:
            value = fraction_of(rate.strip())
        except ValueError as e:
            raise InputError(f"{where}: {e}") from None
        per = period.strip()
        hours = parse_duration_hours(per if per[:1].isdigit() else f"1{per}", "--funding-rate")
        out[name] = value / hours
    return out
