"""Perp positions in the risk book: columns beside the balances, CSR by account.

Row ``r`` holds positions ``indptr[r]:indptr[r + 1]``: the perp (index in
:class:`~xmargin.fast.perp_packing.PerpTables`), the size q, the entry price E and the
funding index f, as float64; the exact positions are kept beside them for the exact
re-check. :class:`PerpBook` adds what a row's positions add to its six sums
(:func:`xmargin.fast.perps.perp_sums`, the initial PnL capped per account) to the spot
sums before the status is decided, so a tick of an underlying, which moves its perps'
notional and PnL, re-decides the rows holding them.

The float band widens for perp rows: a PnL is a difference, q·(P − E) − q·(F − f), whose
float error scales with |q|·(P + E + |F| + |f|), not with the PnL. That scale, times
:data:`~xmargin.book.tolerances.REL_TOL` (a hundred thousand times the float error),
joins the band of :mod:`xmargin.book.screening`; inside it the exact engine decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xmargin._typing import BoolArray, Float64Array1D, Float64Array2D, Int64Array1D
from xmargin.book.constant_columns import append_row, constant, dense, held_bytes
from xmargin.book.screening import band
from xmargin.book.tolerances import REL_TOL
from xmargin.fast.backend import elementwise, select
from xmargin.fast.perp_packing import PerpTables
from xmargin.fast.perps import cap_initial_pnl, effective_margin_up, notional, perp_sums
from xmargin.model.perps import PerpPosition

__all__ = [
    "PerpBook",
    "PerpColumns",
    "error_scale",
    "merge_rows",
    "perp_recheck",
    "perp_screening_margin",
]


def merge_rows(a: Int64Array1D, b: Int64Array1D) -> Int64Array1D:
    """The sorted union of two sorted row arrays (a radix sort, then drop repeats)."""
    if not b.size:
        return a
    if not a.size:
        return b
    c = np.concatenate([a, b])
    c.sort(kind="stable")
    keep = np.empty(c.size, dtype=bool)
    keep[0] = True
    np.not_equal(c[1:], c[:-1], out=keep[1:])
    out: Int64Array1D = c[keep]
    return out


@dataclass
class PerpColumns:
    """Every row's perp positions (module docstring); ``exact[i]`` is position ``i``."""

    indptr: Int64Array1D
    perp: Int64Array1D
    size: Float64Array1D
    entry: Float64Array1D
    f: Float64Array1D
    exact: list[PerpPosition]

    @classmethod
    def build(
        cls, n_rows: int, rows: Int64Array1D, perp: Int64Array1D, exact: Sequence[PerpPosition]
    ) -> PerpColumns:
        """Columns of positions given by book row and perp index, in any order."""
        order = np.lexsort((perp, rows))
        rows, perp = rows[order], perp[order]
        held = [exact[i] for i in order.tolist()]
        if rows.size:
            indptr = np.zeros(n_rows + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        else:
            indptr = constant(n_rows + 1, 0, np.int64)
        return cls(
            indptr,
            perp.astype(np.int64),
            np.array([float(p.size) for p in held], dtype=np.float64),
            np.array([float(p.entry_price) for p in held], dtype=np.float64),
            np.array([float(p.funding_index) for p in held], dtype=np.float64),
            held,
        )

    @classmethod
    def empty(cls, n_rows: int) -> PerpColumns:
        none = np.zeros(0, dtype=np.int64)
        return cls.build(n_rows, none, none, [])

    @property
    def n_positions(self) -> int:
        return int(self.perp.size)

    def positions(self, r: int) -> range:
        return range(int(self.indptr[r]), int(self.indptr[r + 1]))


@elementwise
def perp_recheck(x: Any, y: Any, scale: Any, warn: Any) -> Any:
    """Whether the exact engine decides a perp row (module docstring): it has debt and
    lies within the band, widened by ``REL_TOL x scale``, of either level."""
    t = band(x, y) + REL_TOL * scale
    near = (np.abs(x - y) <= t) | (np.abs(x - warn * y) <= (0.5 + 0.5 * warn) * t)
    return (y > 0.0) & near


#: Margins are kept a hair below their value, so float32 rounding never widens them.
_SHRINK = 1.0 - 1e-6


@elementwise
def perp_screening_margin(
    x: Any, y: Any, mc: Any, md: Any, notional: Any, scale: Any, warn: Any
) -> Any:
    """The relative move of every price a perp row can take without a decision changing,
    rounded down; -1 where it must always be re-priced.

    ``x``, ``y``: its maintenance sums with perps; ``mc``, ``md``: without (the spot
    part); ``notional``: Σ |q|·P; ``scale``: :func:`error_scale` summed.

    Notes
    -----
    A move δ of every price moves the spot part of x − L·y by at most δ·L·(mc + md)
    (:mod:`xmargin.book.screening`), and a position's PnL by q·P·δ (P moves with its
    underlying, a mark price in proportion), its margin |q|·P·r_m by at most |q|·P·δ:
    so x − y and x − L·y move by at most δ·L·S with S = mc + md + 3·notional. The band
    t (widened by the PnL's scale) is taken on both sides of the move, with room.
    """
    t = band(x, y) + REL_TOL * scale
    s = mc + md + 3.0 * notional
    to_one = np.abs(x - y) - 3.0 * t
    to_warn = (np.abs(x - warn * y) - 1.5 * (1.0 + warn) * t) / warn
    num = select(to_one < to_warn, to_one, to_warn)
    ok = (s > 0.0) & (num > 0.0)
    return select(ok, num / select(ok, s, 1.0) * _SHRINK, -1.0)


@elementwise
def error_scale(q: Any, price: Any, entry: Any, index: Any, entry_index: Any) -> Any:
    """|q|·(P + E + |F| + |f|): what a position's PnL float error scales with."""
    return np.abs(q) * (price + entry + np.abs(index) + np.abs(entry_index))


class PerpBook:
    """The perp columns of a book, its float perp tables and each perp's price P."""

    def __init__(
        self,
        cols: PerpColumns,
        tables: PerpTables,
        asset_price: Float64Array1D,
    ) -> None:
        self.cols = cols
        self.tables = tables
        self._file_price = asset_price.copy()
        self.price = tables.prices_of(asset_price)
        self._owner: Int64Array1D
        self.rows: Int64Array1D
        self.mask: BoolArray
        self._index_rows()
        #: each row's screening margin (:func:`perp_screening_margin`; -1: none yet)
        self.margin = constant(cols.indptr.size - 1, -1.0, np.float32)
        if self.any:
            self.margin = dense(self.margin)

    @property
    def any(self) -> bool:
        return bool(self.rows.size)

    def set_prices(self, asset_price: Float64Array1D) -> None:
        """P of every perp at ``asset_price`` (per asset): a mark price moves with its
        underlying in proportion (contract 6.1), as the exact market's does."""
        t = self.tables
        under = asset_price[t.underlying]
        ratio = under / self._file_price[t.underlying]
        self.price = np.where(np.isnan(t.mark_price), under, t.mark_price * ratio)

    def holders(self, perps: Iterable[int]) -> Int64Array1D:
        """Sorted rows holding any of ``perps``."""
        wanted = np.zeros(len(self.tables), dtype=bool)
        wanted[list(perps)] = True
        out: Int64Array1D = np.unique(self._owner[wanted[self.cols.perp]])
        return out

    def holders_of_underlyings(self, assets: Iterable[int]) -> Int64Array1D:
        """Sorted rows holding a perp on any of ``assets`` (asset indexes; one asset's
        holders are kept until the positions change)."""
        key = tuple(sorted(set(assets)))
        got = self._by_assets.get(key)
        if got is None:
            moved = set(key)
            got = self.holders(j for j, a in enumerate(self.tables.underlying) if int(a) in moved)
            if len(self._by_assets) < 64:
                self._by_assets[key] = got
        return got

    def in_ranges(self, starts: Int64Array1D, ends: Int64Array1D) -> Int64Array1D:
        """Rows holding perps within the ranges ``[starts[i], ends[i])`` (disjoint)."""
        if int((ends - starts).sum()) == self.mask.size:  # the whole book
            return self.rows
        lo = np.searchsorted(self.rows, starts)
        hi = np.searchsorted(self.rows, ends)
        if lo.size == 0:
            return np.zeros(0, dtype=np.int64)
        counts = hi - lo
        first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        idx = first + np.arange(int(counts.sum()), dtype=np.int64)
        out: Int64Array1D = self.rows[idx]
        return out

    def sums(self, rows: Int64Array1D) -> tuple[Float64Array2D, Float64Array1D, Float64Array1D]:
        """What each row's positions add to (cv, dv, ic, id, mc, md), 6 x len(rows), in
        quote (the initial PnL capped per row); each row's error scale (module
        docstring) and its notional Σ |q|·P."""
        c, t = self.cols, self.tables
        lo = c.indptr[rows]
        counts = c.indptr[rows + 1] - lo
        owner = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
        first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        i = first + np.arange(owner.size, dtype=np.int64)
        j = c.perp[i]
        q, e, f0 = c.size[i], c.entry[i], c.f[i]
        p, f = self.price[j], t.funding_index[j]
        terms = perp_sums(
            q, p, e, f, f0, t.initial_margin[j], t.maintenance_margin[j], t.size_factor[j],
            t.pnl_initial_weight[j],
        )  # fmt: skip
        out = np.empty((6, rows.size))
        for k, term in enumerate(terms):
            out[k] = np.bincount(owner, weights=term, minlength=rows.size)
        out[2] = cap_initial_pnl(out[2], t.cap)
        scale = error_scale(q, p, e, f, f0)
        per_row: Float64Array1D = np.bincount(owner, weights=scale, minlength=rows.size).astype(
            np.float64, copy=False
        )
        size: Float64Array1D = np.bincount(
            owner, weights=notional(q, p), minlength=rows.size
        ).astype(np.float64, copy=False)
        return out, per_row, size

    def set_funding_index(self, perp: int, value: float) -> None:
        self.tables = self.tables.with_funding_index({self.tables.names[perp]: value})

    @property
    def nbytes(self) -> int:
        """Bytes of the float columns and per-row arrays (the exact positions aside)."""
        c = self.cols
        cols = (c.indptr, c.perp, c.size, c.entry, c.f, self.margin, self.mask)
        return sum(held_bytes(x) for x in cols)

    def add_row(self) -> None:
        """A new row without positions (an account added to the book)."""
        c = self.cols
        c.indptr = append_row(c.indptr, c.indptr[-1])
        self._index_rows()
        self.margin = append_row(self.margin, np.float32(-1.0))

    def _index_rows(self) -> None:
        c = self.cols
        n = c.indptr.size - 1
        self._owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(c.indptr))
        self.rows = np.flatnonzero(np.diff(c.indptr) > 0).astype(np.int64)
        self.mask = constant(n, False, np.bool_)
        if self.rows.size:
            self.mask = np.zeros(n, dtype=bool)
            self.mask[self.rows] = True
            if hasattr(self, "margin"):
                self.margin = dense(self.margin)
        self._by_assets: dict[tuple[int, ...], Int64Array1D] = {}
        t = self.tables
        #: per position, its effective maintenance margin (it depends on |q| only)
        self.rm: Float64Array1D = effective_margin_up(
            t.maintenance_margin[c.perp], t.size_factor[c.perp], c.size
        )

    def set_position(self, r: int, perp: int, pos: PerpPosition | None) -> None:
        """Replace row ``r``'s position in ``perp`` (``None`` or size 0: remove it).

        An insertion or removal moves the columns after it (O(positions)): the book
        mirrors trades, which are rare beside price ticks.
        """
        c = self.cols
        c.indptr = dense(c.indptr)
        lo, hi = int(c.indptr[r]), int(c.indptr[r + 1])
        held = np.flatnonzero(c.perp[lo:hi] == perp)
        at = lo + int(held[0]) if held.size else lo + int(np.searchsorted(c.perp[lo:hi], perp))
        gone = pos is None or not pos.size
        if held.size and not gone:
            assert pos is not None
            c.size[at], c.entry[at], c.f[at] = pos.size, pos.entry_price, pos.funding_index
            c.exact[at] = pos
            return
        if held.size:  # remove
            c.perp, c.size = np.delete(c.perp, at), np.delete(c.size, at)
            c.entry, c.f = np.delete(c.entry, at), np.delete(c.f, at)
            del c.exact[at]
            c.indptr[r + 1 :] -= 1
        elif not gone:  # insert
            assert pos is not None
            c.perp = np.insert(c.perp, at, perp)
            c.size = np.insert(c.size, at, float(pos.size))
            c.entry = np.insert(c.entry, at, float(pos.entry_price))
            c.f = np.insert(c.f, at, float(pos.funding_index))
            c.exact.insert(at, pos)
            c.indptr[r + 1 :] += 1
        else:
            return
        self._index_rows()

    def positions_of(self, r: int) -> dict[str, PerpPosition]:
        """Row ``r``'s exact positions, by perp name."""
        names = self.tables.names
        c = self.cols
        return {names[int(c.perp[i])]: c.exact[i] for i in c.positions(r)}
