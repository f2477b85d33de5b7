"""The risk book: every account's figures at once, re-priced on every tick.

A :class:`RiskBook` holds a whole market in columns (:mod:`xmargin.book.loading`,
:mod:`xmargin.book.build`) and keeps one status byte per account (:class:`Status`:
``healthy``, ``at_risk`` below the warning level, default 1.1, or ``liquidatable``).
Float64 kernels screen every account; an account whose figures lie within a small band
of a level is decided by the exact Decimal engine (:mod:`xmargin.book.exact_bridge`), so
every decision equals :func:`xmargin.risk.health.account_health`'s.

- :meth:`RiskBook.apply_prices` re-prices only the accounts holding the changed assets,
  after the oracle guards (:mod:`xmargin.book.oracle`), and returns the risk events.
  Among those it skips the accounts that cannot have crossed a level: each account keeps
  a screening margin computed at reference prices (:class:`~xmargin.book.kernels.Reference`);
  while no price has moved more than that margin from its reference, the status stands
  (a tick finds the rows its drift reaches in a per-asset index of the holders near a
  level, :mod:`xmargin.book.near_rows`, instead of reading every holder's margin).
  When a price has moved more than :data:`RESET_DRIFT`, the whole book is recomputed and
  the current prices become the reference. A move of many assets at once recomputes
  every account.
- :meth:`RiskBook.set_balance` changes one account's balance and re-prices that row
  (:mod:`xmargin.book.balance_methods`).
- :meth:`RiskBook.liquidation_queue` lists the liquidatable accounts, largest shortfall
  first; :meth:`RiskBook.figures` every figure of contract section 2.
- Perp positions (contract 5) are columns beside the balances
  (:mod:`xmargin.book.perp_columns`); a tick of an underlying re-prices the rows holding
  its perps, :meth:`RiskBook.set_funding_index` those holding the perp, and
  :meth:`RiskBook.set_perp` mirrors a trade (:mod:`xmargin.book.perp_methods`).
- Option positions (contract 6) are leg columns re-priced on a tick of their underlying
  (:mod:`xmargin.book.option_book`) and decided by the option pass
  (:mod:`xmargin.book.option_pass`); portfolio-margined accounts with their float
  scenario valuation (:mod:`xmargin.book.portfolio_screen`), near a level exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from xmargin._typing import Int64Array1D, UInt8Array1D
from xmargin.book.balance_methods import BookBalances
from xmargin.book.balances import BalanceEditor
from xmargin.book.build import CHUNK_ROWS, Runs, merge_ranges, runs_of_arrays
from xmargin.book.events import (
    PriceUpdate,
    RejectedPrice,
    RiskEvent,
    Status,
)
from xmargin.book.exact_bridge import ExactBridge
from xmargin.book.id_index import IdIndex
from xmargin.book.kernels import (
    RECOMPUTE,
    REFERENCE,
    SCREENED,
    Backend,
    BookArrays,
    Flagged,
    Reference,
    kernels_for,
)
from xmargin.book.loading import BookParts, parts_of_file, parts_of_market
from xmargin.book.near_rows import NearRows
from xmargin.book.option_loading import attach_options
from xmargin.book.option_pass import redecide_options, split_extra
from xmargin.book.oracle import OracleState, check_price, to_seconds
from xmargin.book.perp_columns import PerpBook, PerpColumns, merge_rows
from xmargin.book.perp_pass import redecide, rows_to_decide
from xmargin.book.portfolio_screen import portfolio_rows
from xmargin.book.tolerances import SLOW_ROW, STATUS_BITS
from xmargin.errors import XmarginError
from xmargin.fast.health import health_factor
from xmargin.fast.perp_packing import PerpTables
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth
from xmargin.risk.shocks import shocked_prices
from xmargin.risk.status import DEFAULT_WARNING_LEVEL, check_warning_level, status_of

__all__ = ["DEFAULT_WARNING_LEVEL", "RESET_DRIFT", "RiskBook"]

#: A tick whose accounts cover more than this share of the book re-prices it whole.
_FULL_SHARE = 0.6
#: Once a price has moved this far (relative) from the screening reference, the next
#: re-price recomputes the whole book and takes the current prices as the reference.
RESET_DRIFT = 0.02
_STATUS = tuple(Status)  # by value: indexing is much cheaper than Status(value)


class RiskBook(BookBalances):
    """A columnar, vectorized book of every account of a market (see module docstring)."""

    def __init__(
        self,
        parts: BookParts,
        warning_level: Decimal = DEFAULT_WARNING_LEVEL,
        backend: Backend = "auto",
        shocks: Mapping[str, Decimal] | None = None,
    ) -> None:
        """Use :meth:`load` or :meth:`from_market`; this assembles prepared columns."""
        self._warn = check_warning_level(warning_level)
        market = parts.market
        self._params = market.params
        self._layout = layout = parts.layout
        self._a = parts.arrays
        # book row -> place in the file (int32 while it fits: 4 bytes an account)
        fi = parts.file_index
        self._file_index = fi.astype(np.int32) if fi.size < 1 << 31 else fi
        self._ids = IdIndex(parts.ids, self._file_index)
        self._runs: Runs | None = None  # per-asset row ranges, built at the first tick
        self._n_positions = parts.n_positions
        self._k = kernels_for(backend)
        self._source = parts.source
        self._assets = dict(market.assets)  # parameters at the file's prices
        self._prices: dict[str, Decimal] = {s: p.price for s, p in market.assets.items()}
        if shocks:
            self._prices.update(shocked_prices(self._prices, shocks))
        self._exact = ExactBridge(
            market.params, market.assets, market.categories, layout, self._a, parts.cells,
            parts.overrides,
        )  # fmt: skip
        self._exact.set_prices(self._prices)
        self._tables = layout.tables(self._prices, warning_level)
        self._perps = PerpBook(
            parts.perps or PerpColumns.empty(parts.arrays.indptr.size - 1),
            PerpTables.of_market(market),
            layout.spot.prices_of({s: p.price for s, p in market.assets.items()}),
        )
        self._perps.set_prices(self._asset_prices())
        self._exact.set_perps(market.perps, self._perps.positions_of)
        self._options = attach_options(parts, self._exact, self._k.name, self._asset_prices())
        self._portfolio_rows = portfolio_rows(
            self._options,
            lambda r: self._exact.account(r, self._ids.id(r)),
            self._exact.market,
            layout.assets,
            self._k.name,
        )
        self._oracle = OracleState()
        self._exact_cache: dict[int, AccountHealth] = {}
        self._status: UInt8Array1D = np.zeros(self.n_accounts, dtype=np.uint8)
        self._ref = Reference(np.full(self.n_accounts, -1.0, dtype=np.float32), 0.0)
        self._ref_price = np.zeros(len(layout.assets))
        self._near = NearRows(RESET_DRIFT)  # per asset, the rows a tick may reach
        self._balances = BalanceEditor(layout, self._a, self._exact)
        self._mark_slow_rows()
        #: counters: exact re-checks, full and partial re-prices
        self.stats: dict[str, int] = {"exact_rechecks": 0, "full_reprices": 0, "ticks": 0}
        self.reprice(events=False)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_market(
        cls,
        market: Market,
        *,
        warning_level: Decimal = DEFAULT_WARNING_LEVEL,
        backend: Backend = "auto",
        cluster: bool = True,
        shocks: Mapping[str, Decimal] | None = None,
    ) -> RiskBook:
        """A book of every account of an (exactly loaded) market.

        ``shocks`` ({asset: fraction}, -0.3 = -30%) multiply prices by (1 + shock) before
        the book is first priced (contract 4 ``stress``); ``cluster=False`` keeps the
        file's row order (for a book priced once).
        """
        return cls(parts_of_market(market, cluster), warning_level, backend, shocks)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        warning_level: Decimal = DEFAULT_WARNING_LEVEL,
        backend: Backend = "auto",
        cluster: bool = True,
        shocks: Mapping[str, Decimal] | None = None,
    ) -> RiskBook:
        """Load a market file and its ``accounts_file`` (contract 1.4) into a book.

        ``cluster`` and ``shocks`` as in :meth:`from_market`. The positions file is read
        in bulk (:mod:`xmargin.book.loader`); if anything in it breaks a rule, the exact
        loader reports every problem with its location
        (:class:`~xmargin.errors.MarketFileError`), as ``xmargin check`` does.
        """
        return cls(parts_of_file(path, cluster), warning_level, backend, shocks)

    # -- shape ----------------------------------------------------------------------------
    @property
    def n_positions(self) -> int:
        """(account, asset) pairs with a non-zero balance when loaded, plus those added."""
        return self._n_positions

    @property
    def n_entries(self) -> int:
        """Stored entries: one per non-zero side (supply, borrow) of each position."""
        return int(self._a.codes.size)

    @property
    def assets(self) -> tuple[str, ...]:
        return self._layout.assets

    @property
    def backend(self) -> str:
        """``numba`` or ``numpy``: the kernels this book runs."""
        return self._k.name

    @property
    def warning_level(self) -> Decimal:
        return self._warn

    @property
    def quote(self) -> str:
        return self._params.quote

    @property
    def prices(self) -> dict[str, Decimal]:
        """The current exact price of every asset (quote per unit)."""
        return dict(self._prices)

    @property
    def arrays(self) -> BookArrays:
        """The book's columns (read them; change the book through its methods only)."""
        return self._a

    def account_ids(self) -> list[str]:
        """Every account id, in file order."""
        return self._ids.ids_of(self._rows_in_file_order())

    def account_at(self, row: int) -> str:
        """The id of the account at book row ``row``."""
        return self._ids.id(row)

    def asset_runs(self) -> Runs:
        """Per asset, the row ranges of the accounts holding it (built at first use)."""
        if self._runs is None:
            self._runs = runs_of_arrays(self._a, len(self._layout.assets))
        return self._runs

    def _mark_slow_rows(self) -> None:
        """Flag the rows holding size-haircut entries (the kernels' general path)."""
        hc = self._tables.hk > 0.0
        self._slow = bool(hc.any())
        if not self._slow:
            return
        n = self.n_accounts
        owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(self._a.indptr))
        slow = np.bincount(owner, weights=hc[self._a.codes], minlength=n) > 0
        self._status[slow] |= np.uint8(SLOW_ROW)

    # -- re-pricing -----------------------------------------------------------------------
    def reprice(self, events: bool = True) -> list[RiskEvent]:
        """Recompute every account at the current prices, which become the screening
        reference; the events of that pass (``events=False``: settle, report nothing)."""
        self._ref_price = self._tables.hp[: self._layout.k2 : 2].copy()
        self._ref.new_reference()
        self._near.clear()
        return self._full(REFERENCE, events)

    def _full(self, mode: int, events: bool = True) -> list[RiskEvent]:
        n = self.n_accounts
        starts = np.arange(0, n, CHUNK_ROWS, dtype=np.int64)
        ends = np.minimum(starts + CHUNK_ROWS, n)
        self.stats["full_reprices"] += 1
        return self._run(starts, ends, events, mode)

    def _run(
        self,
        starts: Int64Array1D,
        ends: Int64Array1D,
        events: bool = True,
        mode: int = RECOMPUTE,
        extra: Int64Array1D | None = None,
        spot: Int64Array1D | None = None,
    ) -> list[RiskEvent]:
        """Re-price the ranges, then decide their rows holding perps, and the ``extra``
        perp rows, with their perp terms (:mod:`xmargin.book.perp_pass`). ``spot``: the
        sorted rows of the ranges the spot kernels may recompute, if known (a tick,
        :mod:`xmargin.book.near_rows`): the kernels run over those rows only."""
        self._exact_cache.clear()  # every change of the book re-prices through here
        perps, opts = self._perps, self._options
        opt_rows = opts.rows_to_decide(starts, ends, extra) if opts.any else None
        opt_before = self._status[opt_rows] if opt_rows is not None else None
        extra = split_extra(perps, opts, extra)
        perp_rows = (
            rows_to_decide(perps, self._ref, starts, ends, extra, mode) if perps.any else None
        )
        before = self._status[perp_rows] if perp_rows is not None else None
        if spot is None:
            flagged = self._k.reprice(
                starts, ends, self._a, self._tables, self._status, self._ref, mode, self._slow
            )
        else:
            flagged = self._k.reprice_rows(spot, self._a, self._tables, self._status, self._ref)
        if perp_rows is not None and before is not None and perp_rows.size:
            flagged = redecide(
                self._k, self._a, self._tables, self._perps, self._status, self._ref,
                perp_rows, before, flagged, mode,
            )  # fmt: skip
        if opt_rows is not None and opt_before is not None and opt_rows.size:
            flagged = redecide_options(
                self._k, self._a, self._tables, perps, opts, self._status, self._ref, opt_rows,
                opt_before, flagged, self._portfolio_rows,
            )  # fmt: skip
        return self._settle(flagged, events)

    def _ranges_of_assets(self, assets: Iterable[int]) -> tuple[Int64Array1D, Int64Array1D]:
        idx = list(assets)
        runs = self.asset_runs()
        starts = np.concatenate([runs.starts[a] for a in idx] or [np.zeros(0, np.int64)])
        ends = np.concatenate([runs.ends[a] for a in idx] or [np.zeros(0, np.int64)])
        if len(idx) > 1:
            starts, ends = merge_ranges(starts, ends)
        return starts, ends  # sorted, disjoint (a tick's kernel runs over its rows only)

    def apply_prices(
        self,
        prices: Mapping[str, object],
        *,
        timestamp: float | datetime | None = None,
        now: float | datetime | None = None,
        guard: bool = True,
    ) -> PriceUpdate:
        """Apply new oracle prices; re-price only the accounts holding those assets.

        ``prices``: ``{asset: price}``, quote per unit (a Decimal, an int or a decimal
        string). ``timestamp``: when they were observed (unix seconds or an aware
        datetime), needed by assets with ``max_price_age_seconds``. ``now``: the time to
        judge staleness at (default: the latest the book has seen). ``guard``: apply the
        oracle guards (:mod:`xmargin.book.oracle`); ``False`` for hypothetical prices
        (``stress``), which are still checked to be numbers > 0.

        All or nothing: with any price rejected, nothing changes and every reason is
        listed; else the risk events of the accounts that crossed a level.
        """
        ts = to_seconds(timestamp) if timestamp is not None else None
        at = to_seconds(now) if now is not None else None
        accepted: dict[str, Decimal] = {}
        rejected: list[RejectedPrice] = []
        for asset, raw in prices.items():
            try:
                accepted[asset] = check_price(
                    self._assets.get(asset), asset, raw, self._prices.get(asset),
                    self._oracle, ts, at, guard,
                )  # fmt: skip
            except XmarginError as exc:
                rejected.append(RejectedPrice(str(asset), str(raw), exc.code, exc.message))
        if rejected:
            return PriceUpdate({}, rejected, [], 0)
        changed = {s: p for s, p in accepted.items() if p != self._prices[s]}
        self._oracle.accept(accepted, ts)
        if not changed:
            return PriceUpdate(accepted, [], [], 0)
        self._prices.update(changed)
        index = self._layout.asset_index
        moved = {index[a]: float(p) for a, p in changed.items()}
        self._layout.set_prices(self._tables, moved)
        self._exact.set_prices(self._prices)
        self._perps.set_prices(self._asset_prices())
        self._options.set_prices(self._asset_prices())
        self.stats["ticks"] += 1
        # How far any price now stands from the screening reference (with a margin for
        # the float64 ratio): rows farther than that from every level cannot cross one.
        for a, p in moved.items():
            move = abs(p / self._ref_price[a] - 1.0) * (1.0 + 1e-9) + 1e-15
            self._ref.drift = max(self._ref.drift, move)
        if self._ref.drift > RESET_DRIFT:
            return PriceUpdate(accepted, [], self.reprice(), self.n_accounts)
        runs = self.asset_runs()
        if sum(runs.rows(a) for a in moved) > _FULL_SHARE * self.n_accounts:
            return PriceUpdate(accepted, [], self._full(RECOMPUTE), self.n_accounts)
        starts, ends = self._ranges_of_assets(moved)
        extra = self._perps.holders_of_underlyings(moved) if self._perps.any else None
        if self._options.any:
            held = self._options.holders_of_underlyings(moved)
            extra = held if extra is None else merge_rows(extra, held)
        rows = int((ends - starts).sum()) + (0 if extra is None else extra.size)
        spot = self._near.candidates(list(moved), runs, self._ref, starts, ends)
        events = self._run(starts, ends, True, SCREENED, extra, spot)
        return PriceUpdate(accepted, [], events, rows)

    # -- exact re-checks ------------------------------------------------------------------
    def _settle(self, fl: Flagged, events: bool = True) -> list[RiskEvent]:
        """Exact re-checks of the flagged rows near a level; the events of status changes."""
        if fl.rows.size == 0:
            return []
        if not events:
            fl = Flagged(fl.rows[fl.recheck], fl.previous[fl.recheck], fl.recheck[fl.recheck])
        rows = fl.rows
        new = (self._status[rows] & STATUS_BITS).astype(np.int64)
        hf = np.full(rows.size, np.nan)
        exact = np.zeros(rows.size, dtype=bool)
        for i in np.flatnonzero(fl.recheck).tolist():
            r = int(rows[i])
            h = self._exact_row(r)
            s = status_of(h, self._warn)
            self._status[r] = (self._status[r] & SLOW_ROW) | np.uint8(s)
            new[i] = s
            if h.health_factor is not None:
                hf[i] = float(h.health_factor)
            exact[i] = True
            self.stats["exact_rechecks"] += 1
        changed = np.flatnonzero(new != fl.previous)
        if changed.size == 0 or not events:
            return []
        changed = changed[np.argsort(self._file_index[rows[changed]], kind="stable")]
        floats = changed[~exact[changed]]
        if floats.size:
            mc, md = self._maintenance(rows[floats])
            hf[floats] = health_factor(mc, md)
        ids = self._ids.ids_of(rows[changed])
        prev = fl.previous[changed].tolist()
        now = new[changed].tolist()
        hfs = hf[changed].tolist()
        was_exact = exact[changed].tolist()
        return [
            RiskEvent(a, _STATUS[p], _STATUS[q], None if math.isnan(h) else h, x)
            for a, p, q, h, x in zip(ids, prev, now, hfs, was_exact, strict=True)
        ]

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"RiskBook({self.n_accounts} accounts, {self.n_positions} positions, "
            f"{len(self.assets)} assets, healthy={c[Status.HEALTHY]}, "
            f"at_risk={c[Status.AT_RISK]}, liquidatable={c[Status.LIQUIDATABLE]}, "
            f"backend={self.backend!r})"
        )
