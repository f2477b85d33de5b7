"""The risk book's option positions: leg columns by book row, and the rows the option pass
decides (contract 6; docs/contract.md 6.5).

:class:`BookOptions` holds :class:`~xmargin.book.option_columns.OptionColumns` over the
book's rows (standard-margin terms in float64, re-priced on a tick of an underlying), the
exact size of every leg (for the exact bridge), and which rows are portfolio-margined
(6.3): their balances of an underlying change weight under the scenarios, so the option
pass screens them with their own float figures (:mod:`xmargin.book.portfolio_screen`),
the exact engine deciding those near a level.

The rows it decides (:attr:`BookOptions.rows`) are those holding an option and every
portfolio-margined row; the spot screening skips them (their reference margin is kept at
+inf, as a perp row's) and every pass that reaches one decides it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np

from xmargin._typing import BoolArray, Float64Array1D, Int64Array1D
from xmargin.book.constant_columns import append_row, constant, held_bytes
from xmargin.book.option_columns import OptionColumns, OptionTable
from xmargin.book.perp_columns import merge_rows
from xmargin.fast import option_packing as fop
from xmargin.fast import options as fo
from xmargin.fast.backend import Backend
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod

__all__ = ["BookOptions", "gather_rows"]


def gather_rows(ptr: Int64Array1D, rows: Int64Array1D) -> tuple[Int64Array1D, Int64Array1D]:
    """For CSR offsets ``ptr``: the entries of ``rows`` (in order) and, for each, the
    position of its row in ``rows``."""
    lo = ptr[rows]
    counts = ptr[rows + 1] - lo
    owner = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    return first + np.arange(owner.size, dtype=np.int64), owner


class BookOptions:
    """Option legs by book row, their exact sizes and the portfolio-margined rows."""

    def __init__(
        self,
        market: Market,
        assets: Sequence[str],
        n_rows: int,
        rows: Int64Array1D,
        option: Int64Array1D,
        sizes: Sequence[Decimal],
        portfolio_rows: Int64Array1D,
        backend: Backend = "auto",
    ) -> None:
        """``rows``, ``option``, ``sizes``: one entry per position (book row, option index
        in ``market.options``, exact contracts); ``portfolio_rows``: rows under portfolio
        margin. ``market``'s prices are those the book was loaded at."""
        table = OptionTable.from_market(market, assets)
        self.names = table.names
        # The columns' own order (row, then expiry group; stable): sizes follow it.
        order = np.lexsort((table.rows[option, fo.GROUP], rows)) if rows.size else rows
        rows, option = rows[order], option[order]
        self.sizes: list[Decimal] = [sizes[int(i)] for i in order]
        self.portfolio: BoolArray = constant(n_rows, False, np.bool_)
        if portfolio_rows.size:
            self.portfolio = np.zeros(n_rows, dtype=bool)
            self.portfolio[portfolio_rows] = True
        self.cols = OptionColumns(
            table,
            rows,
            option,
            np.array([float(s) for s in self.sizes], dtype=np.float64),
            n_rows,
            fop.pack_option_margin(market.option_margin),
            np.unique(portfolio_rows).astype(np.int64),
            backend,
        )
        assert np.array_equal(self.cols.option_of, option)  # the order kept
        self._price = np.array([float(market.assets[a].price) for a in assets])
        self._index_rows()

    @classmethod
    def empty(cls, market: Market, assets: Sequence[str], n_rows: int) -> BookOptions:
        none = np.zeros(0, dtype=np.int64)
        return cls(market, assets, n_rows, none, none, [], none)

    def _index_rows(self) -> None:
        held = np.diff(self.cols.ptr) > 0
        self.mask: BoolArray = held | self.portfolio
        self.rows: Int64Array1D = np.flatnonzero(self.mask).astype(np.int64)
        if not self.rows.size:
            self.mask = constant(self.mask.size, False, np.bool_)
        self._by_assets: dict[tuple[int, ...], Int64Array1D] = {}

    @property
    def any(self) -> bool:
        return bool(self.rows.size)

    @property
    def n_positions(self) -> int:
        return self.cols.n_legs

    # -- prices -----------------------------------------------------------------------------
    def set_prices(self, asset_price: Float64Array1D) -> None:
        """Every underlying at ``asset_price`` (float64 per book asset): the legs on those
        that moved follow it (F·S′/S, 6.1) and are re-priced."""
        moved = np.flatnonzero(asset_price != self._price)
        if moved.size and self.cols.n_legs:
            ratios = {int(a): float(asset_price[a] / self._price[a]) for a in moved}
            self.cols.apply_prices(ratios)
        self._price = asset_price.copy()

    def holders_of_underlyings(self, assets: Iterable[int]) -> Int64Array1D:
        """Sorted rows holding an option on any of ``assets`` (book asset indexes)."""
        key = tuple(sorted(set(assets)))
        got = self._by_assets.get(key)
        if got is None:
            on = np.isin(self.cols.under, np.array(key, dtype=np.int64))
            got = np.unique(self.cols.account_of[on]).astype(np.int64)
            if len(self._by_assets) < 64:
                self._by_assets[key] = got
        return got

    def rows_to_decide(
        self, starts: Int64Array1D, ends: Int64Array1D, extra: Int64Array1D | None
    ) -> Int64Array1D:
        """The rows of this book within the ranges ``[starts[i], ends[i])`` and among
        ``extra`` (sorted)."""
        if int((ends - starts).sum()) == self.mask.size:
            rows = self.rows
        else:
            lo = np.searchsorted(self.rows, starts)
            hi = np.searchsorted(self.rows, ends)
            counts = hi - lo
            first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
            rows = self.rows[first + np.arange(int(counts.sum()), dtype=np.int64)]
        if extra is not None and extra.size:
            rows = merge_rows(rows, extra[self.mask[extra]])
        return rows

    def error_scale(self, rows: Int64Array1D) -> Float64Array1D:
        """Σ |q|·(F + K + S) of each row's legs: the scale of its option terms' float
        error (tests/properties/test_option_float_twins.py)."""
        legs = self.cols.legs
        i, owner = gather_rows(self.cols.ptr, rows)
        leg = np.abs(legs[i, fo.Q]) * (legs[i, fo.FORWARD] + legs[i, fo.STRIKE] + legs[i, fo.SPOT])
        out: Float64Array1D = np.bincount(owner, weights=leg, minlength=rows.size).astype(
            np.float64
        )
        return out

    # -- exact positions ----------------------------------------------------------------
    def positions_of(self, r: int) -> dict[str, Decimal]:
        """Row ``r``'s option positions, exact, by option name."""
        c = self.cols
        lo, hi = int(c.ptr[r]), int(c.ptr[r + 1])
        return {self.names[int(c.option_of[i])]: self.sizes[i] for i in range(lo, hi)}

    def margin_of(self, r: int) -> MarginMethod:
        return MarginMethod.PORTFOLIO if self.portfolio[r] else MarginMethod.STANDARD

    def add_row(self) -> None:
        """A new row without positions (an account added to the book)."""
        c = self.cols
        c.ptr = append_row(c.ptr, c.ptr[-1])
        c.terms = append_row(c.terms, 0.0)
        self.portfolio = append_row(self.portfolio, False)
        self._index_rows()

    @property
    def nbytes(self) -> int:
        c = self.cols
        parts = (
            c.legs, c.ptr, c.terms, c.account_of, c.option_of, c.under, self.portfolio, self.mask,
        )  # fmt: skip
        return sum(held_bytes(x) for x in parts) + 32 * len(self.sizes)
