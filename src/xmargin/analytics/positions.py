"""Every account's positions as dense float64 columns, for book-wide views of a live market.

Weights depend on units, never on prices (contract 1.2: the size haircut reads the units
held), so each position's effective weights are taken once from the exact rule
(:func:`xmargin.risk.weights.effective_weights`) and kept as *weighted units*; re-pricing
the whole book is then a matrix-vector product. The columns are accounts x assets:

===========  ===============================================  ======================
column       per account and asset                             times price gives
===========  ===============================================  ======================
``supply``   s, units supplied                                 collateral value cv
``borrow``   b, units borrowed                                 debt value dv
``cf``       s · cf_eff                                        initial collateral ic
``bw``       b · bw_eff                                        initial debt id
``lt``       s · lt_eff                                        maintenance coll. mc
``mbw``      b · mbw_eff                                       maintenance debt md
===========  ===============================================  ======================

:meth:`PositionColumns.refresh` keeps them current cheaply: an account whose
:class:`~xmargin.model.account.Account` object was replaced (the service replaces an
account on every committed change, never edits one in place) is re-read; a change of any
weight parameter rebuilds the whole table. The float twins below are property-tested
equal to the exact rules they are named after (``tests/analytics/test_positions.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np

from xmargin._typing import BoolArray, Float64Array1D, Float64Array2D
from xmargin.errors import UnknownAsset
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.weights import effective_weights

__all__ = ["ColumnSums", "PositionColumns", "liquidation_prices", "weighted_sums"]

#: The columns, in the order of the table above.
COLUMNS = ("supply", "borrow", "cf", "bw", "lt", "mbw")
_S, _B, _CF, _BW, _LT, _MBW = range(6)


def _weight_key(market: Market) -> tuple[Any, ...]:
    """Everything the weighted units depend on besides balances (not prices)."""
    assets = tuple(
        (
            s,
            a.collateral_factor,
            a.liquidation_threshold,
            a.borrow_weight,
            a.maintenance_borrow_weight,
            a.size_factor,
        )
        for s, a in market.assets.items()
    )
    categories = tuple(sorted((n, c.model_dump_json()) for n, c in market.categories.items()))
    return assets, categories


class PositionColumns:
    """Dense accounts x assets columns of a market (see the module docstring).

    ``ids[r]`` is the account of row ``r``; ``assets[k]`` the asset of column ``k``. The
    arrays are views of the first ``n`` rows of a buffer that grows by doubling.
    """

    def __init__(self, market: Market) -> None:
        self._build(market)

    # -- keeping the columns current ----------------------------------------------------
    def _build(self, market: Market) -> None:
        self.assets: tuple[str, ...] = tuple(market.assets)
        self._col = {a: k for k, a in enumerate(self.assets)}
        self._key = _weight_key(market)
        n = len(market.accounts)
        self._buf = np.zeros((len(COLUMNS), max(n, 16), len(self.assets)), dtype=np.float64)
        self.ids: list[str] = []
        self._row: dict[str, int] = {}
        self._seen: list[Account] = []
        for acc in market.accounts.values():
            self._append(acc, market)

    def _append(self, acc: Account, market: Market) -> None:
        r = len(self.ids)
        if r == self._buf.shape[1]:
            grown = np.zeros(
                (len(COLUMNS), 2 * r, len(self.assets)),
                dtype=np.float64,
            )
            grown[:, :r] = self._buf
            self._buf = grown
        self.ids.append(acc.id)
        self._row[acc.id] = r
        self._seen.append(acc)
        self._fill(r, acc, market)

    def _fill(self, r: int, acc: Account, market: Market) -> None:
        row = self._buf[:, r]
        row[:] = 0.0
        category = market.category_of(acc)
        for a in dict.fromkeys([*acc.supply, *acc.borrow]):
            s, b = acc.supplied(a), acc.borrowed(a)
            w = effective_weights(market.assets[a], category, s, b)
            k = self._col[a]
            row[_S, k] = float(s)
            row[_B, k] = float(b)
            row[_CF, k] = float(s * w.collateral_factor)
            row[_BW, k] = float(b * w.borrow_weight)
            row[_LT, k] = float(s * w.liquidation_threshold)
            row[_MBW, k] = float(b * w.maintenance_borrow_weight)

    def refresh(self, market: Market) -> int:
        """Bring the columns to ``market``; returns how many rows were (re)read.

        A new weight parameter, a new asset or a vanished account rebuilds everything;
        otherwise only accounts whose object changed, and new accounts, are read.
        """
        if (
            tuple(market.assets) != self.assets
            or _weight_key(market) != self._key
            or len(market.accounts) < len(self.ids)
        ):
            self._build(market)
            return len(self.ids)
        read = 0
        for acc_id, acc in market.accounts.items():
            r = self._row.get(acc_id)
            if r is None:
                self._append(acc, market)
            elif self._seen[r] is not acc:
                self._seen[r] = acc
                self._fill(r, acc, market)
            else:
                continue
            read += 1
        if len(self.ids) != len(market.accounts):  # an account was replaced by another id
            self._build(market)
            return len(self.ids)
        return read

    # -- reading ------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Accounts (rows)."""
        return len(self.ids)

    def column(self, name: str) -> Float64Array2D:
        """One column (n x assets), by its name in :data:`COLUMNS`."""
        out: Float64Array2D = self._buf[COLUMNS.index(name), : self.n]
        return out

    def asset_index(self, asset: str, where: str = "asset") -> int:
        try:
            return self._col[asset]
        except KeyError:
            raise UnknownAsset(asset, where) from None

    def row_of(self, account: str) -> int | None:
        return self._row.get(account)

    def price_vector(self, prices: Mapping[str, Decimal]) -> Float64Array1D:
        """The prices in column order, as float64."""
        return np.array([float(prices[a]) for a in self.assets], dtype=np.float64)

    def has_debt(self) -> BoolArray:
        out: BoolArray = np.any(self.column("borrow") > 0.0, axis=1)
        return out


class ColumnSums(NamedTuple):
    """The six sums of contract section 2 for every row, in quote (float64)."""

    collateral_value: Float64Array1D
    debt_value: Float64Array1D
    initial_collateral: Float64Array1D
    initial_debt: Float64Array1D
    maintenance_collateral: Float64Array1D
    maintenance_debt: Float64Array1D


def weighted_sums(cols: PositionColumns, p: Float64Array1D) -> ColumnSums:
    """Float twin of :func:`xmargin.risk.health.weighted_sums`, for every row at once.

    Notes
    -----
    cv = Σ s·p;  ic = Σ s·cf·p;  mc = Σ s·lt·p;  dv = Σ b·p;  id = Σ b·bw·p;  md = Σ b·mbw·p,
    with the weighted units of :class:`PositionColumns` (weights after the category rule
    and the size haircut). No rounding: float64 throughout.
    """
    s, b, cf, bw, lt, mbw = (cols.column(c) for c in COLUMNS)
    return ColumnSums(s @ p, b @ p, cf @ p, bw @ p, lt @ p, mbw @ p)


def liquidation_prices(
    cols: PositionColumns, p: Float64Array1D, asset: str, sums: ColumnSums | None = None
) -> tuple[Float64Array1D, Float64Array1D]:
    """Float twin of :func:`xmargin.risk.liquidation_price.liquidation_price`, every row.

    Returns ``(price, slope)``: per row, the price of ``asset`` at which the health factor
    is exactly 1 with other prices fixed (NaN where the exact rule gives ``None``: no debt,
    no exposure to the asset, or no positive solution), and the slope
    d(mc − md)/dp = s·lt − b·mbw in units (> 0: a fall in price liquidates).

    Notes
    -----
    mc and md are linear in p: mc − md = (mc₀ − md₀) + slope·p, so with the current sums
    p* = p − (mc − md)/slope.
    """
    k = cols.asset_index(asset)
    sums = sums if sums is not None else weighted_sums(cols, p)
    slope = cols.column("lt")[:, k] - cols.column("mbw")[:, k]
    gap = sums.maintenance_collateral - sums.maintenance_debt
    with np.errstate(divide="ignore", invalid="ignore"):
        price = p[k] - gap / slope
    ok = (slope != 0.0) & cols.has_debt() & (price > 0.0)
    out: Float64Array1D = np.where(ok, price, np.nan)
    return out, slope
