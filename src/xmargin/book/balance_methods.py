"""The risk book's balance methods: set balances, add an account.

A base of :class:`~xmargin.book.riskbook.RiskBook` (over
:class:`~xmargin.book.perp_methods.BookPerps`), kept apart so that the book's re-pricing
machinery stays in one file. The book mirrors balances: margin rules are the ledger's job.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from xmargin.book.balances import BalanceEditor
from xmargin.book.events import RiskEvent
from xmargin.book.perp_methods import BookPerps
from xmargin.book.tolerances import SLOW_ROW

__all__ = ["BookBalances"]


class BookBalances(BookPerps):
    """Balance changes and new accounts (attributes set by ``RiskBook``)."""

    _balances: BalanceEditor
    _slow: bool

    def set_balance(
        self,
        account: str,
        asset: str,
        *,
        supply: object | None = None,
        borrow: object | None = None,
    ) -> list[RiskEvent]:
        """Set one account's supply and/or borrow of ``asset`` (token units); re-price
        that row only. The book mirrors balances: margin rules are the ledger's job."""
        r = self._set_one(account, asset, supply, borrow)
        return self._run(np.array([r], dtype=np.int64), np.array([r + 1], dtype=np.int64))

    def set_balances(
        self, changes: Iterable[tuple[str, str, object | None, object | None]]
    ) -> list[RiskEvent]:
        """Set many ``(account, asset, supply, borrow)`` balances, then re-price every row
        they touch in ONE kernel call: the service's batch of commits costs one call, not
        one per balance. Each account's event runs from its status before the first change
        to its status after the last (one event per account that crossed a level)."""
        rows = {self._set_one(acc, asset, s, b) for acc, asset, s, b in changes}
        if not rows:
            return []
        idx = np.array(sorted(rows), dtype=np.int64)
        return self._run(idx, idx + 1)

    def _set_one(
        self, account: str, asset: str, supply: object | None, borrow: object | None
    ) -> int:
        """Row ``account``'s balance of ``asset`` set (not re-priced); its row."""
        r = self.row_of(account)
        change = self._balances.set(r, account, asset, supply, borrow, self._tables.hk)
        if change.slow:
            self._status[r] |= np.uint8(SLOW_ROW)
            self._slow = True
        if change.new_position:
            if self._runs is not None:
                self._runs.add_row(change.asset, r)
            self._n_positions += 1
        self._ref.reset(r)  # never screened out until the next reference pass
        return r

    def add_account(self, account: str, category: str | None = None) -> None:
        """Add an account without balances (then :meth:`set_balance`)."""
        self._balances.add_row(account, category, self._ids.find(account) is not None)
        self._perps.add_row()
        self._options.add_row()
        self._status = np.append(self._status, np.uint8(0))
        self._ref.margin = np.append(self._ref.margin, np.float32(-1.0))
        at = np.asarray([self.n_accounts - 1], dtype=np.int64)
        self._file_index = np.append(self._file_index, at.astype(self._file_index.dtype))
        self._ids.append(account)
