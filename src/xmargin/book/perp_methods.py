"""The risk book's perp methods: the perps it holds and the oracle's funding index.

A base of :class:`~xmargin.book.riskbook.RiskBook` (over
:class:`~xmargin.book.reading.BookReader`), kept apart so that the book's spot machinery
stays in one file.
"""

from __future__ import annotations

import numpy as np

from xmargin._typing import Float64Array1D, Int64Array1D
from xmargin.book.events import RiskEvent
from xmargin.book.exact_bridge import ExactBridge
from xmargin.book.kernels import RECOMPUTE, PriceTables
from xmargin.book.reading import BookReader
from xmargin.book.tables import Layout
from xmargin.errors import InvalidAmount
from xmargin.model.perps import PerpPosition

__all__ = ["BookPerps"]


class BookPerps(BookReader):
    """Perp queries and the funding index (attributes set by ``RiskBook``)."""

    _exact: ExactBridge
    _tables: PriceTables
    _layout: Layout

    def _run(
        self,
        starts: Int64Array1D,
        ends: Int64Array1D,
        events: bool = True,
        mode: int = RECOMPUTE,
        extra: Int64Array1D | None = None,
    ) -> list[RiskEvent]:
        raise NotImplementedError  # pragma: no cover - RiskBook's

    def _asset_prices(self) -> Float64Array1D:
        """Float64 price per asset, as the tables hold it."""
        out: Float64Array1D = self._tables.hp[: self._layout.k2 : 2].copy()
        return out

    @property
    def perps(self) -> tuple[str, ...]:
        """The market's perps, in market-file order."""
        return self._perps.tables.names

    @property
    def n_perp_positions(self) -> int:
        """Perp positions held (contract 5), beside the balances."""
        return self._perps.cols.n_positions

    @property
    def n_perp_accounts(self) -> int:
        """Accounts holding at least one perp position."""
        return int(self._perps.rows.size)

    def set_funding_index(self, perp: str, funding_index: object) -> list[RiskEvent]:
        """Set ``perp``'s funding index F (quote per unit, contract 5.3: the oracle's);
        re-price the rows holding it and return their risk events.

        Raises
        ------
        UnknownPerp
            A perp the market does not list.
        InvalidAmount
            A value that is not a finite number.
        """
        from xmargin.model.numbers import NumberError, parse_number

        j = self._perps.tables.index_of(perp)
        try:
            value = parse_number(funding_index)
        except NumberError as exc:
            raise InvalidAmount(f"funding_index of {perp}", funding_index, str(exc)) from None
        self._perps.set_funding_index(j, float(value))
        self._exact.set_funding_index(perp, value)
        rows = self._perps.holders([j])
        self._ref.reset(rows)  # screened again from the next reference pass
        none = np.zeros(0, dtype=np.int64)
        return self._run(none, none, True, RECOMPUTE, rows)

    def set_perp(self, account: str, perp: str, position: PerpPosition | None) -> list[RiskEvent]:
        """Set ``account``'s position in ``perp`` (``None`` or size 0 closes it); re-price
        that row only. The book mirrors positions: trading rules are the ledger's job."""
        r = self.row_of(account)
        j = self._perps.tables.index_of(perp)
        self._perps.set_position(r, j, position)
        self._ref.reset(r)
        one = np.array([r], dtype=np.int64)
        return self._run(one, one + 1, True, RECOMPUTE, one if self._perps.mask[r] else None)

    def perp_positions(self, account: str) -> dict[str, PerpPosition]:
        """``account``'s perp positions as the book holds them (exact), by perp."""
        return self._perps.positions_of(self.row_of(account))
