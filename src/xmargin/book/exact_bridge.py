"""The risk book's bridge to the exact engine: exact balances, exact accounts, re-checks.

The book screens in float64; wherever a decision lies within the float band of a level
(:mod:`xmargin.book.tolerances`), it asks the exact Decimal engine
(:func:`xmargin.risk.health.account_health`). For that it needs each balance exactly:
the float's shortest repr where it round-trips (the loader checked that), else the
file's text, kept aside per (row, asset); balances set since are kept as Decimals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

import numpy as np
import pyarrow as pa

from xmargin._typing import Int64Array1D
from xmargin.book.kernels import BookArrays
from xmargin.book.tables import Layout
from xmargin.mathlib import ZERO
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.numbers import parse_number
from xmargin.model.options import MarginMethod
from xmargin.model.params import AssetParams, CategoryParams, MarketParams
from xmargin.model.perps import PerpParams, PerpPosition
from xmargin.risk.health import AccountHealth, account_health

__all__ = ["ExactBridge", "ExactCells", "entry_of"]

Overrides = dict[tuple[int, int], tuple[Decimal, Decimal]]


def entry_of(arrays: BookArrays, layout: Layout, r: int, asset: int, side: int) -> int:
    """The entry of row ``r``'s ``asset`` on ``side`` (0 supply, 1 borrow), or -1."""
    lo, hi = int(arrays.indptr[r]), int(arrays.indptr[r + 1])
    code = layout.code(int(arrays.cat[r]), asset, side)
    hit = np.flatnonzero(arrays.codes[lo:hi] == code)
    return lo + int(hit[0]) if hit.size else -1


class ExactCells:
    """Balances whose float64 is not exact: sorted keys ``row x K + asset`` and the file's
    supply and borrow texts (``null`` where that side's float is exact)."""

    __slots__ = ("borrow", "keys", "supply")

    def __init__(self, keys: Int64Array1D, supply: pa.Array, borrow: pa.Array) -> None:
        self.keys = keys
        self.supply = supply
        self.borrow = borrow

    @classmethod
    def none(cls) -> ExactCells:
        return cls(np.zeros(0, dtype=np.int64), pa.nulls(0, pa.string()), pa.nulls(0, pa.string()))

    def text(self, key: int, side: int) -> str | None:
        i = int(np.searchsorted(self.keys, key))
        if i < self.keys.size and int(self.keys[i]) == key:
            value: str | None = (self.borrow if side else self.supply)[i].as_py()
            return value
        return None

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.supply.nbytes + self.borrow.nbytes)


class ExactBridge:
    """Exact balances of the book's rows and the market the exact engine reads."""

    def __init__(
        self,
        params: MarketParams,
        assets: Mapping[str, AssetParams],
        categories: Mapping[str, CategoryParams],
        layout: Layout,
        arrays: BookArrays,
        cells: ExactCells,
        overrides: Overrides,
    ) -> None:
        self.params = params
        self._assets = dict(assets)  # parameters at the file's prices
        self._categories = dict(categories)
        self._layout = layout
        self._a = arrays
        self._cells = cells
        self._overrides = overrides
        self._market: Market | None = None  # at the current prices, built when needed
        self._prices: Mapping[str, Decimal] = {s: p.price for s, p in assets.items()}
        self._perps: dict[str, PerpParams] = {}  # at the file's prices, today's F
        self._positions: Callable[[int], dict[str, PerpPosition]] | None = None
        self._options: Market | None = None  # the option parts, at the file's prices
        self._option_positions: Callable[[int], dict[str, Decimal]] | None = None
        self._margin: Callable[[int], MarginMethod] | None = None

    def set_options(
        self,
        market: Market,
        positions: Callable[[int], dict[str, Decimal]],
        margin: Callable[[int], MarginMethod],
    ) -> None:
        """``market``'s options, option and portfolio margin parameters (at the file's
        prices), each row's exact option positions and its margin method."""
        self._options = market
        self._option_positions = positions
        self._margin = margin
        self._market = None

    def set_perps(
        self,
        perps: Mapping[str, PerpParams],
        positions: Callable[[int], dict[str, PerpPosition]],
    ) -> None:
        """The market's perps and each row's exact positions (``positions(row)``)."""
        self._perps = dict(perps)
        self._positions = positions
        self._market = None

    def set_funding_index(self, perp: str, value: Decimal) -> None:
        """A perp's new funding index F (the exact market is rebuilt at its next use)."""
        self._perps[perp] = self._perps[perp].model_copy(update={"funding_index": value})
        self._market = None

    @property
    def cells_nbytes(self) -> int:
        return self._cells.nbytes

    def set_prices(self, prices: Mapping[str, Decimal]) -> None:
        """The book's current prices (the exact market is rebuilt at its next use)."""
        self._prices = prices
        self._market = None

    def market(self) -> Market:
        """The market at the current prices, without accounts: what the exact engine reads."""
        o = self._options
        if self._market is None and (self._perps or o is not None):
            # A perp's mark price, an option's forward follow the underlying from the
            # file's price (6.1).
            base = Market(self.params, self._assets, self._categories, perps=self._perps)
            if o is not None:
                base.options = o.options
                base.option_margin = o.option_margin
                base.portfolio_margin = o.portfolio_margin
            self._market = base.with_prices(self._prices)
        if self._market is None:
            assets = {
                sym: ap
                if ap.price == self._prices[sym]
                else ap.model_copy(update={"price": self._prices[sym]})
                for sym, ap in self._assets.items()
            }
            self._market = Market(self.params, assets, self._categories)
        return self._market

    def pair(self, r: int, a: int) -> tuple[Decimal, Decimal]:
        """The exact supply and borrow units of row ``r``, asset ``a``."""
        got = self._overrides.get((r, a))
        if got is not None:
            return got
        return self._side(r, a, 0), self._side(r, a, 1)

    def set_pair(self, r: int, a: int, supply: Decimal, borrow: Decimal) -> None:
        self._overrides[(r, a)] = (supply, borrow)

    def _side(self, r: int, a: int, side: int) -> Decimal:
        j = entry_of(self._a, self._layout, r, a, side)
        if j < 0:
            return ZERO
        text = self._cells.text(r * len(self._layout.assets) + a, side)
        if text is not None:
            return parse_number(text)
        # The float's shortest repr is the exact value (see xmargin.book.loader).
        return Decimal(repr(float(self._a.units[j])))

    def account(self, r: int, account_id: str) -> Account:
        """Row ``r`` as an exact :class:`~xmargin.model.account.Account`."""
        supply: dict[str, Decimal] = {}
        borrow: dict[str, Decimal] = {}
        lo, hi = int(self._a.indptr[r]), int(self._a.indptr[r + 1])
        k2 = self._layout.k2
        for a in dict.fromkeys((int(code) % k2) >> 1 for code in self._a.codes[lo:hi]):
            s, b = self.pair(r, a)
            sym = self._layout.assets[a]
            supply[sym] = s
            borrow[sym] = b
        c = int(self._a.cat[r])
        category = self._layout.categories[c] if c < len(self._layout.categories) else None
        perps = self._positions(r) if self._positions is not None else None
        if self._option_positions is None or self._margin is None:
            return Account(account_id, supply, borrow, category, perps)
        options = self._option_positions(r)
        return Account(account_id, supply, borrow, category, perps, options, self._margin(r))

    def health(self, r: int, account_id: str) -> AccountHealth:
        """Every figure of contract section 2 of row ``r``, exact, at the current prices."""
        return account_health(self.account(r, account_id), self.market())
