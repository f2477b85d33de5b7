"""Every account's positions as dense float64 columns, for book-wide views of a live market.

Weights depend on units, never on prices (contract 1.2: the size haircut reads the units
held), so each position's six terms of contract section 2 are linear in its price: each
position's effective weights are taken once from the exact rule
(:func:`xmargin.risk.weights.effective_weights`), and its terms at a price of 1 from the
float rule :func:`xmargin.fast.health.weighted_sums` are kept as *weighted units*.
Re-pricing the whole book is then a matrix-vector product per figure. The columns are
accounts x assets, in the order of ``weighted_sums``' terms:

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
weight parameter rebuilds the whole table. The liquidation price is the float rule
:func:`xmargin.fast.liquidation_price.liquidation_price`; both are property-tested equal
to their exact twins (``tests/analytics/test_positions.py``,
``tests/properties/test_float_twins.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np

from xmargin._typing import BoolArray, Float64Array1D, Float64Array2D
from xmargin.errors import UnknownAsset
from xmargin.fast.health import weighted_sums
from xmargin.fast.liquidation_price import liquidation_price
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.weights import effective_weights

__all__ = ["COLUMNS", "ColumnSums", "PositionColumns", "column_sums", "liquidation_prices"]

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
            # The terms at a price of 1 (quote per unit): each column times a price gives
            # the term at that price, in the order of COLUMNS.
            row[:, self._col[a]] = weighted_sums(
                float(s),
                float(b),
                1.0,
                float(w.collateral_factor),
                float(w.liquidation_threshold),
                float(w.borrow_weight),
                float(w.maintenance_borrow_weight),
            )

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


def column_sums(cols: PositionColumns, p: Float64Array1D) -> ColumnSums:
    """Every row's six sums of contract section 2 at prices ``p`` (column order).

    Notes
    -----
    Each column holds a term of :func:`xmargin.fast.health.weighted_sums` at a price of 1
    (the float twin of :func:`xmargin.risk.health.weighted_sums`); the terms are linear in
    the price, so a row's sum at ``p`` is its column row times ``p``. No rounding.
    """
    return ColumnSums(*(cols.column(c) @ p for c in COLUMNS))


def liquidation_prices(
    cols: PositionColumns, p: Float64Array1D, asset: str, sums: ColumnSums | None = None
) -> tuple[Float64Array1D, Float64Array1D]:
    """Every row's liquidation price of ``asset`` (:func:`xmargin.fast.liquidation_price.
    liquidation_price`, NaN where the exact rule gives ``None``) and its slope
    d(mc − md)/dp in units (> 0: a fall in price liquidates)."""
    k = cols.asset_index(asset)
    sums = sums if sums is not None else column_sums(cols, p)
    # mc and md per unit of price: their difference is the position's price slope
    # (s·lt − b·mbw, :func:`xmargin.fast.liquidation_price.price_slope`).
    slope = cols.column("lt")[:, k] - cols.column("mbw")[:, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        price: Float64Array1D = liquidation_price(
            p[k], sums.maintenance_collateral, sums.maintenance_debt, slope
        )
    return price, slope
