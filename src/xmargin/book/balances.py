"""Changing the risk book's balances in place: one account's position, or a new account.

The book mirrors balances (margin rules are the ledger's job): a balance is set to an
exact amount (kept for the exact bridge), written to its entry, or a new entry is
inserted into the row's CSR range.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import numpy as np

from xmargin._typing import Float64Array1D
from xmargin.book.exact_bridge import ExactBridge, entry_of
from xmargin.book.kernels import BookArrays
from xmargin.book.tables import Layout
from xmargin.errors import InputError, UnknownAsset, UnknownCategory
from xmargin.risk.validation import parse_amount

__all__ = ["BalanceChange", "BalanceEditor"]


class BalanceChange(NamedTuple):
    """What :meth:`BalanceEditor.set` did: the asset's index, whether the account did not
    hold it before, and whether the row now holds a size-haircut entry."""

    asset: int
    new_position: bool
    slow: bool


class BalanceEditor:
    """Sets balances of the book's rows (see the module docstring)."""

    def __init__(self, layout: Layout, arrays: BookArrays, exact: ExactBridge) -> None:
        self._layout = layout
        self._a = arrays
        self._exact = exact

    def set(
        self,
        r: int,
        account: str,
        asset: str,
        supply: object | None,
        borrow: object | None,
        size_factor: Float64Array1D,
    ) -> BalanceChange:
        """Set row ``r``'s supply and/or borrow of ``asset`` (token units >= 0)."""
        if asset not in self._layout.asset_index:
            raise UnknownAsset(asset, f"account {account!r}")
        a = self._layout.asset_index[asset]
        dec = self._layout.decimals[a]
        old_s, old_b = self._exact.pair(r, a)
        new_s = old_s if supply is None else self._units(supply, dec, f"{account}.supply.{asset}")
        new_b = old_b if borrow is None else self._units(borrow, dec, f"{account}.borrow.{asset}")
        held = entry_of(self._a, self._layout, r, a, 0) >= 0
        held = held or entry_of(self._a, self._layout, r, a, 1) >= 0
        slow = False
        for side, value in ((0, new_s), (1, new_b)):
            j = entry_of(self._a, self._layout, r, a, side)
            if j >= 0:
                self._a.units[j] = float(value)
            elif value:
                code = self._insert(r, a, side, float(value))
                slow = slow or bool(size_factor[code] > 0.0)
        self._exact.set_pair(r, a, new_s, new_b)
        return BalanceChange(a, not held and bool(new_s or new_b), slow)

    @staticmethod
    def _units(value: object, decimals: int, field: str) -> Decimal:
        return parse_amount(value, decimals, field, zero_ok=True)

    def _insert(self, r: int, asset: int, side: int, units: float) -> int:
        a = self._a
        at = int(a.indptr[r + 1])
        code = self._layout.code(int(a.cat[r]), asset, side)
        a.codes = np.insert(a.codes, at, a.codes.dtype.type(code))
        a.units = np.insert(a.units, at, units)
        a.indptr[r + 1 :] += 1
        return code

    def add_row(self, account: str, category: str | None, exists: bool) -> None:
        """Append an empty row for ``account`` (of ``category``, or none)."""
        if not account:
            raise InputError("account: must not be empty")
        if exists:
            raise InputError(f"account {account!r} is already in the book")
        c = self._layout.no_category
        if category is not None:
            if category not in self._layout.category_index:
                raise UnknownCategory(category)
            c = self._layout.category_index[category]
        a = self._a
        a.indptr = np.append(a.indptr, a.indptr[-1])
        a.cat = np.append(a.cat, a.cat.dtype.type(c))
