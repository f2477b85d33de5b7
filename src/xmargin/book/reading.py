"""Reading the risk book: statuses, the liquidation queue, every figure, the summary.

The read-only half of :class:`~xmargin.book.riskbook.RiskBook` (which inherits it): it
reads the book's columns and statuses and asks the exact bridge for the accounts whose
float figures cannot show their decision.
"""

from __future__ import annotations

import numpy as np

from xmargin._typing import Float64Array1D, IndexArray1D, Int64Array1D, UInt8Array1D
from xmargin.book.build import Runs
from xmargin.book.events import BookFigures, BookSummary, QueueEntry, Status
from xmargin.book.exact_bridge import ExactBridge
from xmargin.book.id_index import IdIndex
from xmargin.book.kernels import BookArrays, Kernels, PriceTables, Reference
from xmargin.book.near_rows import NearRows
from xmargin.book.option_book import BookOptions
from xmargin.book.option_pass import option_figures, option_maintenance, option_summary
from xmargin.book.perp_columns import PerpBook
from xmargin.book.perp_pass import maintenance_sums, perp_summary
from xmargin.book.portfolio_screen import PortfolioRows
from xmargin.book.tolerances import STATUS_BITS
from xmargin.errors import UnknownAccount
from xmargin.fast.health import available_to_borrow, health_factor, is_liquidatable
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth

__all__ = ["BookReader"]


class BookReader:
    """Read-only queries over the book's state (attributes set by ``RiskBook``)."""

    _a: BookArrays
    _k: Kernels
    _tables: PriceTables
    _status: UInt8Array1D
    _file_index: IndexArray1D
    _ids: IdIndex
    _exact: ExactBridge
    _runs: Runs | None
    _ref: Reference
    _near: NearRows
    _n_positions: int
    _perps: PerpBook
    _options: BookOptions
    _exact_cache: dict[int, AccountHealth]
    _portfolio_rows: PortfolioRows

    @property
    def n_accounts(self) -> int:
        return int(self._a.indptr.size - 1)

    def row_of(self, account: str) -> int:
        """The book row of ``account``; :class:`~xmargin.errors.UnknownAccount` if none."""
        r = self._ids.find(account)
        if r is None:
            raise UnknownAccount(account)
        return r

    def _exact_row(self, r: int) -> AccountHealth:
        """Row ``r``'s figures from the exact engine, kept until the book next changes
        (a portfolio-margined row is asked by the pass, the figures and the summary)."""
        got = self._exact_cache.get(r)
        if got is None:
            got = self._exact_cache[r] = self._exact.health(r, self._ids.id(r))
        return got

    def _maintenance(self, rows: Int64Array1D) -> tuple[Float64Array1D, Float64Array1D]:
        """(maintenance_collateral, maintenance_debt) of ``rows``, perps and options in."""
        mc, md = maintenance_sums(self._k, rows, self._a, self._tables, self._perps)
        option_maintenance(self._options, rows, mc, md, self._exact_row, self._portfolio_rows)
        return mc, md

    def _rows_in_file_order(self) -> Int64Array1D:
        out = np.empty(self.n_accounts, dtype=np.int64)
        out[self._file_index] = np.arange(self.n_accounts, dtype=np.int64)
        return out

    def status(self, account: str) -> Status:
        """The account's current status (the exact engine's decision)."""
        return Status(int(self._status[self.row_of(account)]) & STATUS_BITS)

    def statuses(self) -> UInt8Array1D:
        """Every account's status (0 healthy, 1 at risk, 2 liquidatable), in file order."""
        status = self._status[self._rows_in_file_order()] & STATUS_BITS
        out: UInt8Array1D = status.astype(np.uint8)
        return out

    def counts(self) -> dict[Status, int]:
        """How many accounts are in each status."""
        c = np.bincount(self._status & STATUS_BITS, minlength=3)
        return {s: int(c[s]) for s in Status}

    def liquidation_queue(self, limit: int | None = None) -> list[QueueEntry]:
        """Liquidatable accounts, largest shortfall (maintenance_debt − maintenance_collateral)
        first; ties in file order."""
        rows = np.flatnonzero((self._status & STATUS_BITS) == Status.LIQUIDATABLE).astype(np.int64)
        if rows.size == 0:
            return []
        mc, md = self._maintenance(rows)
        short = md - mc
        hf = health_factor(mc, md)
        order = np.lexsort((self._file_index[rows], -short))
        if limit is not None:
            order = order[: max(limit, 0)]
        ids = self._ids.ids_of(rows[order])
        return [
            QueueEntry(ids[k], float(short[i]), float(hf[i]), float(mc[i]), float(md[i]))
            for k, i in enumerate(order.tolist())
        ]

    def figures(self) -> BookFigures:
        """Every figure of contract section 2 for every account, in file order."""
        out = self._k.figures(self._a, self._tables)
        notional = upnl = None
        if self._perps.any:
            add, _, size = self._perps.sums(self._perps.rows)
            out[:, self._perps.rows] += add
            notional, upnl = np.zeros(self.n_accounts), np.zeros(self.n_accounts)
            notional[self._perps.rows] = size
            upnl[self._perps.rows] = add[0] - add[1]
        value: Float64Array1D | None = None
        held: list[tuple[int, AccountHealth]] = []
        if self._options.any:
            value, held = option_figures(self._options, out, self._exact_row, self._portfolio_rows)
        status = (self._status & STATUS_BITS).astype(np.uint8)
        liq = status == Status.LIQUIDATABLE
        # Where the floats cannot show the decision, carry the exact figures (and those
        # of the portfolio-margined rows, which the floats do not hold).
        off = np.flatnonzero(is_liquidatable(out[4], out[5]) != liq)
        portfolio = {r for r, _ in held}
        doubt = held + [(r, self._exact_row(r)) for r in off.tolist() if r not in portfolio]
        for r, h in doubt:
            out[:, r] = [float(v) for v in h[:6]]
        cv, dv, ic, id_, mc, md = out
        hf = health_factor(mc, md)
        for r, h in doubt:
            hf[r] = np.nan if h.health_factor is None else float(h.health_factor)
        order = self._rows_in_file_order()
        return BookFigures(
            account=self._ids.column(order),
            collateral_value=cv[order],
            debt_value=dv[order],
            initial_collateral=ic[order],
            initial_debt=id_[order],
            maintenance_collateral=mc[order],
            maintenance_debt=md[order],
            health_factor=hf[order],
            available_to_borrow=available_to_borrow(ic, id_)[order],
            liquidatable=liq[order],
            status=status[order],
            exact={int(self._file_index[r]): h for r, h in doubt},
            perp_notional=None if notional is None else notional[order],
            unrealized_pnl=None if upnl is None else upnl[order],
            option_value=None if value is None else value[order],
        )

    def summary(self) -> BookSummary:
        """Contract 4 ``stress`` summary at the current prices (exact decisions)."""
        n_liq, liq_debt, insolvent = self._k.summary(self._a, self._tables, self._status)
        if self._perps.any:
            d_liq, d_insolvent = perp_summary(self._a, self._tables, self._perps, self._status)
            liq_debt += d_liq
            insolvent += d_insolvent
        if self._options.any:
            d_liq, d_insolvent = option_summary(
                self._a, self._tables, self._perps, self._options, self._status,
                self._exact_row, self._portfolio_rows,
            )  # fmt: skip
            liq_debt += d_liq
            insolvent += d_insolvent
        return BookSummary(self.n_accounts, n_liq, liq_debt, insolvent)

    # -- the exact engine's view ---------------------------------------------------------
    def exact_account(self, account: str) -> Account:
        """The account as the exact engine sees it (exact Decimal balances)."""
        return self._exact.account(self.row_of(account), account)

    def exact_health(self, account: str) -> AccountHealth:
        """Every figure of contract section 2 for ``account``, exact, at current prices."""
        return self._exact.health(self.row_of(account), account)

    def exact_market(self) -> Market:
        """The market at the book's current prices, without its accounts."""
        return self._exact.market()

    def market(self) -> Market:
        """The market at the book's current prices, with every account (exact balances).

        Builds one Python object per account: for small books and tests.
        """
        base = self._exact.market()
        m = Market(
            self._exact.params, base.assets, base.categories, perps=base.perps,
            options=base.options, option_margin=base.option_margin,
            portfolio_margin=base.portfolio_margin,
        )  # fmt: skip
        for r in self._rows_in_file_order().tolist():
            acc = self._exact.account(r, self._ids.id(r))
            m.accounts[acc.id] = acc
        m._recount_totals()
        return m

    def memory_bytes(self) -> dict[str, int]:
        """Bytes held by each part of the book."""
        a = self._a
        return {
            "indptr": a.indptr.nbytes,
            "codes": a.codes.nbytes,
            "units": a.units.nbytes,
            "category": a.cat.nbytes,
            "status": self._status.nbytes,
            "file_index": self._file_index.nbytes,
            "account_ids": self._ids.nbytes
            + (0 if self._ids.place is self._file_index else self._ids.place.nbytes),
            "runs": 0 if self._runs is None else self._runs.nbytes(),
            "segments": a.layout_nbytes(),
            "screening_margin": self._ref.margin.nbytes,
            "tick_index": self._near.nbytes + self._ref.reset_rows().nbytes,
            "exact_cells": self._exact.cells_nbytes,
            "id_index": self._ids.index_nbytes,
            "perps": self._perps.nbytes,
            "options": self._options.nbytes,
        }

    def bytes_per_position(self) -> float:
        """Every byte the book holds (:meth:`memory_bytes`) per position."""
        return sum(self.memory_bytes().values()) / max(self._n_positions, 1)

    def read_floor(self) -> float:
        """Read the index and value arrays once (the benchmark's memory-read floor)."""
        return self._k.read_floor(self._a)
