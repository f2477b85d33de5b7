"""The risk book: every account's figures at once, re-priced on every tick.

A :class:`RiskBook` holds a whole market in columns (see :mod:`xmargin.book.build` for the
layout) and keeps one status byte per account: ``healthy``, ``at_risk`` (health factor
below the warning level, default 1.1) or ``liquidatable``. Float64 kernels screen every
account; an account whose figures lie within a small band of a level is decided by the
exact Decimal engine (:mod:`xmargin.book.tolerances`), so every ``liquidatable`` decision
equals :func:`xmargin.risk.health.account_health`'s.

- :meth:`RiskBook.apply_prices` re-prices only the accounts holding the changed assets,
  after the oracle guards (:mod:`xmargin.book.oracle`), and returns the risk events.
  Among those it skips the accounts that cannot have crossed a level: each account keeps
  a screening margin computed at reference prices (:class:`~xmargin.book.kernels.Reference`);
  while no price has moved more than that margin from its reference, the status stands.
  When a price has moved more than :data:`RESET_DRIFT`, the whole book is recomputed and
  the current prices become the reference. A move of many assets at once recomputes
  every account.
- :meth:`RiskBook.set_balance` changes one account's balance and re-prices that row.
- :meth:`RiskBook.liquidation_queue` lists the liquidatable accounts, largest shortfall
  first; :meth:`RiskBook.figures` every figure of contract section 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xmargin._typing import Int64Array1D, UInt8Array1D
from xmargin.book.build import (
    CHUNK_ROWS,
    Runs,
    build_layout,
    chunk_ranges,
    merge_ranges,
    runs_of_arrays,
)
from xmargin.book.events import (
    BookFigures,
    BookSummary,
    PriceUpdate,
    QueueEntry,
    RejectedPrice,
    RiskEvent,
    Status,
)
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
from xmargin.book.oracle import OracleState, check_price, to_seconds
from xmargin.book.tables import Layout
from xmargin.book.tolerances import SLOW_ROW, STATUS_BITS
from xmargin.errors import (
    InputError,
    InvalidAmount,
    InvalidPrice,
    MarketFileError,
    UnknownAccount,
    UnknownAsset,
    UnknownCategory,
    XmarginError,
)
from xmargin.io.market_file import load_market, parse_market, read_market_document
from xmargin.mathlib import ONE, ZERO, quantize_down
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.numbers import NumberError, parse_number
from xmargin.risk.health import AccountHealth, account_health

__all__ = ["DEFAULT_WARNING_LEVEL", "RESET_DRIFT", "RiskBook"]

#: Health factor below which an account is ``at_risk`` (and at or above which healthy).
DEFAULT_WARNING_LEVEL = Decimal("1.1")
#: A tick whose accounts cover more than this share of the book re-prices it whole.
_FULL_SHARE = 0.6
#: Once a price has moved this far (relative) from the screening reference, the next
#: re-price recomputes the whole book and takes the current prices as the reference.
RESET_DRIFT = 0.02
_STATUS = tuple(Status)  # by value: indexing is much cheaper than Status(value)


def _round_trips(d: Decimal) -> bool:
    """Whether ``d`` survives float64 (its float's shortest repr is ``d`` again)."""
    return Decimal(repr(float(d))) == d


class _InlineColumns:
    """Accounts held as Python objects, turned into the book's position columns.

    ``exact`` keeps (row, asset) -> (supply, borrow) where a Decimal does not survive
    float64, so the exact re-check reads the file's value.
    """

    __slots__ = ("borrow", "cat", "exact", "ids", "pos_asset", "pos_row", "supply")

    def __init__(self, accounts: list[Account], layout: Layout) -> None:
        rows: list[int] = []
        assets: list[int] = []
        supply: list[float] = []
        borrow: list[float] = []
        self.exact: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
        self.cat = np.full(len(accounts), layout.no_category, dtype=np.uint16)
        for r, acc in enumerate(accounts):
            if acc.category is not None:
                self.cat[r] = layout.category_index[acc.category]
            for sym in dict.fromkeys([*acc.supply, *acc.borrow]):
                a = layout.asset_index[sym]
                s, b = acc.supplied(sym), acc.borrowed(sym)
                rows.append(r)
                assets.append(a)
                supply.append(float(s))
                borrow.append(float(b))
                if not (_round_trips(s) and _round_trips(b)):
                    self.exact[(r, a)] = (s, b)
        self.pos_row = np.array(rows, dtype=np.int64)
        self.pos_asset = np.array(assets, dtype=np.int64)
        self.supply = np.array(supply, dtype=np.float64)
        self.borrow = np.array(borrow, dtype=np.float64)
        self.ids = pa.array([a.id for a in accounts], pa.string())


class RiskBook:
    """A columnar, vectorized book of every account of a market (see module docstring)."""

    def __init__(
        self,
        market: Market,
        layout: Layout,
        arrays: BookArrays,
        ids: pa.Array,
        file_index: Int64Array1D,
        n_positions: int,
        exact_keys: Int64Array1D,
        exact_supply: pa.Array,
        exact_borrow: pa.Array,
        overrides: dict[tuple[int, int], tuple[Decimal, Decimal]],
        warning_level: Decimal,
        backend: Backend,
        source: str | None = None,
        shocks: Mapping[str, Decimal] | None = None,
    ) -> None:
        """Use :meth:`load` or :meth:`from_market`; this assembles prepared columns."""
        if not warning_level.is_finite() or warning_level < ONE:
            raise InputError(f"warning level: must be a number >= 1, was {warning_level}")
        self._params = market.params
        self._categories = dict(market.categories)
        self._layout = layout
        self._a = arrays
        self._ids = ids
        self._extra_ids: list[str] = []
        self._file_index = file_index
        self._runs: Runs | None = None  # per-asset row ranges, built at the first tick
        self._n_positions = n_positions
        self._exact_keys = exact_keys
        self._exact_supply = exact_supply
        self._exact_borrow = exact_borrow
        self._overrides = overrides
        self._warn = warning_level
        self._k = kernels_for(backend)
        self._source = source
        self._prices: dict[str, Decimal] = {s: p.price for s, p in market.assets.items()}
        self._assets = dict(market.assets)  # parameters at the file's prices
        self._exact_market: Market | None = None  # at the current prices, built when needed
        if shocks:
            self._prices.update(_shocked(self._prices, shocks))
        self._tables = layout.tables(self._prices, warning_level)
        self._oracle = OracleState()
        self._sorted_ids: Int64Array1D | None = None
        self._status: UInt8Array1D = np.zeros(self.n_accounts, dtype=np.uint8)
        n = self.n_accounts
        self._ref = Reference(np.full(n, -1.0, dtype=np.float32), 0.0)
        self._ref_price = np.zeros(len(layout.assets))
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
        layout = Layout.of(market.assets, market.categories)
        accounts = list(market.accounts.values())
        cols = _InlineColumns(accounts, layout)
        built = build_layout(
            len(accounts),
            cols.cat,
            cols.pos_row,
            cols.pos_asset,
            cols.supply,
            cols.borrow,
            len(layout.assets),
            layout.code_dtype,
            cluster,
        )
        ids = cols.ids.take(pa.array(built.file_index))
        overrides = {(int(built.row_of_file[r]), a): v for (r, a), v in cols.exact.items()}
        return cls(
            market, layout, built.arrays, ids, built.file_index, built.n_positions,
            np.zeros(0, dtype=np.int64), pa.nulls(0, pa.string()), pa.nulls(0, pa.string()),
            overrides, warning_level, backend, shocks=shocks,
        )  # fmt: skip

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

        ``cluster`` and ``shocks`` as in :meth:`from_market`.

        The positions file is read in bulk (:mod:`xmargin.book.loader`); if anything in
        it breaks a rule, the exact loader reports every problem with its location
        (:class:`~xmargin.errors.MarketFileError`), as ``xmargin check`` does.
        """
        from xmargin.book.loader import NeedsExactLoad, read_position_columns

        p = Path(path)
        raw, _ = read_market_document(p)
        table = raw.get("market")
        accounts_file = table.get("accounts_file") if isinstance(table, dict) else None
        if not isinstance(table, dict) or not isinstance(accounts_file, str):
            return cls.from_market(
                load_market(p),
                warning_level=warning_level,
                backend=backend,
                cluster=cluster,
                shocks=shocks,
            )
        stripped = {**raw, "market": {k: v for k, v in table.items() if k != "accounts_file"}}
        try:
            base = parse_market(stripped, str(p), base_dir=p.parent)
        except MarketFileError:
            load_market(p)  # every problem of the file and its positions, located
            raise
        layout = Layout.of(base.assets, base.categories)
        try:
            cols = read_position_columns(
                p.parent / accounts_file, base.assets, layout.categories, list(base.accounts)
            )
        except NeedsExactLoad:
            # The exact loader is the authority: it raises with every problem located,
            # or (a cell the bulk reader could not parse) accepts the file.
            return cls.from_market(
                load_market(p),
                warning_level=warning_level,
                backend=backend,
                cluster=cluster,
                shocks=shocks,
            )
        params = base.params.model_copy(update={"accounts_file": accounts_file})
        market = Market(params, base.assets, base.categories)
        inline = _InlineColumns(list(base.accounts.values()), layout)
        m = len(inline.ids)
        n = m + len(cols.ids)
        pos_row = np.concatenate([inline.pos_row, cols.pos_row + m])
        pos_asset = np.concatenate([inline.pos_asset, cols.pos_asset])
        built = build_layout(
            n,
            np.concatenate([inline.cat, cols.cat]),
            pos_row,
            pos_asset,
            np.concatenate([inline.supply, cols.supply]),
            np.concatenate([inline.borrow, cols.borrow]),
            len(layout.assets),
            layout.code_dtype,
            cluster,
        )
        ids = pa.concat_arrays([inline.ids, cols.ids.cast(pa.string())]).take(
            pa.array(built.file_index)
        )
        # Positions with exact text, after the inline ones.
        at = len(inline.pos_row) + cols.exact_pos
        keys = built.row_of_file[pos_row[at]] * len(layout.assets) + pos_asset[at]
        order = np.argsort(keys, kind="stable")
        take = pa.array(order, pa.int64())
        overrides = {(int(built.row_of_file[r]), a): v for (r, a), v in inline.exact.items()}
        return cls(
            market, layout, built.arrays, ids, built.file_index, built.n_positions,
            keys[order], cols.exact_supply.take(take), cols.exact_borrow.take(take),
            overrides, warning_level, backend, str(p), shocks,
        )  # fmt: skip

    # -- shape ----------------------------------------------------------------------------
    @property
    def n_accounts(self) -> int:
        return int(self._a.indptr.size - 1)

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
        return [self._id(int(r)) for r in self._rows_in_file_order()]

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
        self._ref.drift = 0.0
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
    ) -> list[RiskEvent]:
        flagged = self._k.reprice(
            starts, ends, self._a, self._tables, self._status, self._ref, mode, self._slow
        )
        return self._settle(flagged, events)

    def _asset_runs(self) -> Runs:
        if self._runs is None:
            self._runs = runs_of_arrays(self._a, len(self._layout.assets))
        return self._runs

    def _ranges_of_assets(self, assets: Iterable[int]) -> tuple[Int64Array1D, Int64Array1D]:
        idx = list(assets)
        runs = self._asset_runs()
        starts = np.concatenate([runs.starts[a] for a in idx] or [np.zeros(0, np.int64)])
        ends = np.concatenate([runs.ends[a] for a in idx] or [np.zeros(0, np.int64)])
        if len(idx) > 1:
            starts, ends = merge_ranges(starts, ends)
        return chunk_ranges(starts, ends)

    def apply_prices(
        self,
        prices: Mapping[str, object],
        *,
        timestamp: float | datetime | None = None,
        now: float | datetime | None = None,
        guard: bool = True,
    ) -> PriceUpdate:
        """Apply new oracle prices; re-price only the accounts holding those assets.

        Parameters
        ----------
        prices
            ``{asset: price}``, quote per unit (a Decimal, an int or a decimal string).
        timestamp
            When the prices were observed (unix seconds or an aware datetime); needed by
            assets with ``max_price_age_seconds``.
        now
            The time to judge staleness at; default: the latest time the book has seen.
        guard
            Apply the oracle guards (:mod:`xmargin.book.oracle`). ``False`` for
            hypothetical prices (``stress``), which are still checked to be numbers > 0.

        Returns
        -------
        PriceUpdate
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
        self._exact_market = None  # rebuilt at the next exact re-check
        self.stats["ticks"] += 1
        # How far any price now stands from the screening reference (with a margin for
        # the float64 ratio): rows farther than that from every level cannot cross one.
        for a, p in moved.items():
            move = abs(p / self._ref_price[a] - 1.0) * (1.0 + 1e-9) + 1e-15
            self._ref.drift = max(self._ref.drift, move)
        if self._ref.drift > RESET_DRIFT:
            return PriceUpdate(accepted, [], self.reprice(), self.n_accounts)
        runs = self._asset_runs()
        if sum(runs.rows(a) for a in moved) > _FULL_SHARE * self.n_accounts:
            return PriceUpdate(accepted, [], self._full(RECOMPUTE), self.n_accounts)
        starts, ends = self._ranges_of_assets(moved)
        rows = int((ends - starts).sum())
        return PriceUpdate(accepted, [], self._run(starts, ends, True, SCREENED), rows)

    # -- balances -------------------------------------------------------------------------
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
        r = self.row_of(account)
        if asset not in self._layout.asset_index:
            raise UnknownAsset(asset, f"account {account!r}")
        a = self._layout.asset_index[asset]
        dec = self._layout.decimals[a]
        old_s, old_b = self._exact_pair(r, a)
        new_s = old_s if supply is None else _amount(supply, dec, f"{account}.supply.{asset}")
        new_b = old_b if borrow is None else _amount(borrow, dec, f"{account}.borrow.{asset}")
        held = self._entry(r, a, 0) >= 0 or self._entry(r, a, 1) >= 0
        for side, value in ((0, new_s), (1, new_b)):
            j = self._entry(r, a, side)
            if j >= 0:
                self._a.units[j] = float(value)
            elif value:
                self._insert_entry(r, a, side, float(value))
        if not held and (new_s or new_b):
            if self._runs is not None:
                self._runs.add_row(a, r)
            self._n_positions += 1
        self._overrides[(r, a)] = (new_s, new_b)
        self._ref.margin[r] = -1.0  # never screened out until the next reference pass
        return self._run(np.array([r], dtype=np.int64), np.array([r + 1], dtype=np.int64))

    def add_account(self, account: str, category: str | None = None) -> None:
        """Add an account without balances (then :meth:`set_balance`)."""
        if not account:
            raise InputError("account: must not be empty")
        if self._find_row(account) is not None:
            raise InputError(f"account {account!r} is already in the book")
        c = self._layout.no_category
        if category is not None:
            if category not in self._layout.category_index:
                raise UnknownCategory(category)
            c = self._layout.category_index[category]
        a = self._a
        a.indptr = np.append(a.indptr, a.indptr[-1])
        a.cat = np.append(a.cat, np.uint16(c))
        self._status = np.append(self._status, np.uint8(0))
        self._ref.margin = np.append(self._ref.margin, np.float32(-1.0))
        self._file_index = np.append(self._file_index, self.n_accounts - 1)
        self._extra_ids.append(account)

    def _entry(self, r: int, asset: int, side: int) -> int:
        """The entry of row ``r``'s ``asset`` on ``side`` (0 supply, 1 borrow), or -1."""
        lo, hi = int(self._a.indptr[r]), int(self._a.indptr[r + 1])
        code = self._layout.code(int(self._a.cat[r]), asset, side)
        hit = np.flatnonzero(self._a.codes[lo:hi] == code)
        return lo + int(hit[0]) if hit.size else -1

    def _insert_entry(self, r: int, asset: int, side: int, units: float) -> None:
        a = self._a
        at = int(a.indptr[r + 1])
        code = self._layout.code(int(a.cat[r]), asset, side)
        a.codes = np.insert(a.codes, at, a.codes.dtype.type(code))
        a.units = np.insert(a.units, at, units)
        a.indptr[r + 1 :] += 1
        if self._tables.hk[code] > 0.0:
            self._status[r] |= np.uint8(SLOW_ROW)
            self._slow = True

    # -- exact values and re-checks -----------------------------------------------------------
    def _exact_pair(self, r: int, a: int) -> tuple[Decimal, Decimal]:
        """The exact supply and borrow units of row ``r``, asset ``a``."""
        got = self._overrides.get((r, a))
        if got is not None:
            return got
        s = self._exact_side(r, a, 0)
        b = self._exact_side(r, a, 1)
        return s, b

    def _exact_side(self, r: int, a: int, side: int) -> Decimal:
        j = self._entry(r, a, side)
        if j < 0:
            return ZERO
        key = r * len(self._layout.assets) + a
        i = int(np.searchsorted(self._exact_keys, key))
        if i < self._exact_keys.size and int(self._exact_keys[i]) == key:
            text = (self._exact_borrow if side else self._exact_supply)[i].as_py()
            if text is not None:
                return parse_number(text)
        # The float's shortest repr is the exact value (see xmargin.book.loader).
        return Decimal(repr(float(self._a.units[j])))

    def _exact_account_row(self, r: int) -> Account:
        supply: dict[str, Decimal] = {}
        borrow: dict[str, Decimal] = {}
        lo, hi = int(self._a.indptr[r]), int(self._a.indptr[r + 1])
        k2 = self._layout.k2
        for a in dict.fromkeys((int(code) % k2) >> 1 for code in self._a.codes[lo:hi]):
            s, b = self._exact_pair(r, a)
            sym = self._layout.assets[a]
            supply[sym] = s
            borrow[sym] = b
        c = int(self._a.cat[r])
        category = self._layout.categories[c] if c < len(self._layout.categories) else None
        return Account(self._id(r), supply, borrow, category)

    def _exact(self) -> Market:
        """The market at the current prices, without accounts: what the exact engine reads."""
        if self._exact_market is None:
            assets = {
                sym: ap
                if ap.price == self._prices[sym]
                else ap.model_copy(update={"price": self._prices[sym]})
                for sym, ap in self._assets.items()
            }
            self._exact_market = Market(self._params, assets, self._categories)
        return self._exact_market

    def _exact_status(self, h: AccountHealth) -> Status:
        if h.liquidatable:
            return Status.LIQUIDATABLE
        if h.health_factor is not None and h.health_factor < self._warn:
            return Status.AT_RISK
        return Status.HEALTHY

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
            h = account_health(self._exact_account_row(r), self._exact())
            s = self._exact_status(h)
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
            mc, md = self._k.row_sums(rows[floats], self._a, self._tables)
            with np.errstate(divide="ignore", invalid="ignore"):
                hf[floats] = np.where(md > 0, mc / md, np.nan)
        ids = self._ids_of(rows[changed])
        prev = fl.previous[changed].tolist()
        now = new[changed].tolist()
        hfs = hf[changed].tolist()
        was_exact = exact[changed].tolist()
        return [
            RiskEvent(a, _STATUS[p], _STATUS[q], None if math.isnan(h) else h, x)
            for a, p, q, h, x in zip(ids, prev, now, hfs, was_exact, strict=True)
        ]

    def exact_account(self, account: str) -> Account:
        """The account as the exact engine sees it (exact Decimal balances)."""
        return self._exact_account_row(self.row_of(account))

    def exact_health(self, account: str) -> AccountHealth:
        """Every figure of contract section 2 for ``account``, exact, at current prices."""
        return account_health(self.exact_account(account), self._exact())

    def market(self) -> Market:
        """The market at the book's current prices, with every account (exact balances).

        Builds one Python object per account: for small books and tests.
        """
        m = Market(self._params, self._exact().assets, self._categories)
        for r in self._rows_in_file_order():
            acc = self._exact_account_row(int(r))
            m.accounts[acc.id] = acc
        m._recount_totals()
        return m

    # -- ids --------------------------------------------------------------------------------
    def _id(self, r: int) -> str:
        n0 = len(self._ids)
        return str(self._ids[r].as_py()) if r < n0 else self._extra_ids[r - n0]

    def _ids_of(self, rows: Int64Array1D) -> list[str]:
        n0 = len(self._ids)
        if rows.size and int(rows.max()) < n0:
            out: list[str] = self._ids.take(pa.array(rows, pa.int64())).to_pylist()
            return out
        return [self._id(int(r)) for r in rows]

    def _find_row(self, account: str) -> int | None:
        if account in self._extra_ids:
            return len(self._ids) + self._extra_ids.index(account)
        if self._sorted_ids is None:
            self._sorted_ids = np.asarray(pc.sort_indices(self._ids), dtype=np.int64)
        order = self._sorted_ids
        lo, hi = 0, order.size
        while lo < hi:
            mid = (lo + hi) // 2
            if self._ids[int(order[mid])].as_py() < account:
                lo = mid + 1
            else:
                hi = mid
        if lo < order.size and self._ids[int(order[lo])].as_py() == account:
            return int(order[lo])
        return None

    def row_of(self, account: str) -> int:
        """The book row of ``account``; :class:`~xmargin.errors.UnknownAccount` if none."""
        r = self._find_row(account)
        if r is None:
            raise UnknownAccount(account)
        return r

    def _rows_in_file_order(self) -> Int64Array1D:
        out = np.empty(self.n_accounts, dtype=np.int64)
        out[self._file_index] = np.arange(self.n_accounts, dtype=np.int64)
        return out

    # -- reading the book ---------------------------------------------------------------------
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
        mc, md = self._k.row_sums(rows, self._a, self._tables)
        short = md - mc
        order = np.lexsort((self._file_index[rows], -short))
        if limit is not None:
            order = order[: max(limit, 0)]
        ids = self._ids_of(rows[order])
        return [
            QueueEntry(ids[k], float(short[i]), float(mc[i] / md[i]), float(mc[i]), float(md[i]))
            for k, i in enumerate(order.tolist())
        ]

    def figures(self) -> BookFigures:
        """Every figure of contract section 2 for every account, in file order."""
        out = self._k.figures(self._a, self._tables)
        cv, dv, ic, id_, mc, md = out
        status = (self._status & STATUS_BITS).astype(np.uint8)
        liq = status == Status.LIQUIDATABLE
        with np.errstate(divide="ignore", invalid="ignore"):
            hf = np.where(md > 0, mc / md, np.nan)
        # Where the floats cannot show the decision, carry the exact figures.
        doubt = np.flatnonzero(((md > 0) & (mc < md)) != liq)
        order = self._rows_in_file_order()
        exact: dict[int, AccountHealth] = {}
        for r in doubt.tolist():
            h = account_health(self._exact_account_row(r), self._exact())
            for i, v in enumerate(h[:6]):
                out[i, r] = float(v)
            hf[r] = np.nan if h.health_factor is None else float(h.health_factor)
            exact[int(self._file_index[r])] = h
        atb = np.maximum(out[2] - out[3], 0.0)
        return BookFigures(
            account=pa.array(self._ids_of(order), pa.string())
            if self._extra_ids
            else self._ids.take(pa.array(order, pa.int64())),
            collateral_value=cv[order],
            debt_value=dv[order],
            initial_collateral=ic[order],
            initial_debt=id_[order],
            maintenance_collateral=mc[order],
            maintenance_debt=md[order],
            health_factor=hf[order],
            available_to_borrow=atb[order],
            liquidatable=liq[order],
            status=status[order],
            exact=exact,
        )

    def summary(self) -> BookSummary:
        """Contract 4 ``stress`` summary at the current prices (exact decisions)."""
        n_liq, liq_debt, insolvent = self._k.summary(self._a, self._tables, self._status)
        return BookSummary(self.n_accounts, n_liq, liq_debt, insolvent)

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
            "account_ids": int(self._ids.nbytes),
            "runs": 0 if self._runs is None else self._runs.nbytes(),
            "screening_margin": self._ref.margin.nbytes,
            "exact_cells": int(
                self._exact_keys.nbytes + self._exact_supply.nbytes + self._exact_borrow.nbytes
            ),
            "id_index": 0 if self._sorted_ids is None else self._sorted_ids.nbytes,
        }

    def bytes_per_position(self) -> float:
        """Every byte the book holds (:meth:`memory_bytes`) per position."""
        return sum(self.memory_bytes().values()) / max(self._n_positions, 1)

    def read_floor(self) -> float:
        """Read the index and value arrays once (the benchmark's memory-read floor)."""
        return self._k.read_floor(self._a)

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"RiskBook({self.n_accounts} accounts, {self.n_positions} positions, "
            f"{len(self.assets)} assets, healthy={c[Status.HEALTHY]}, "
            f"at_risk={c[Status.AT_RISK]}, liquidatable={c[Status.LIQUIDATABLE]}, "
            f"backend={self.backend!r})"
        )


def _shocked(prices: Mapping[str, Decimal], shocks: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Each shocked asset's price times (1 + shock), as contract 4 ``stress`` applies it."""
    out: dict[str, Decimal] = {}
    for asset, shock in shocks.items():
        if asset not in prices:
            raise UnknownAsset(asset, "--shock")
        p = prices[asset] * (ONE + shock)
        if p <= ZERO:
            raise InvalidPrice(asset, p, "a shock must leave the price > 0")
        out[asset] = p
    return out


def _amount(value: Any, decimals: int, field: str) -> Decimal:
    """Token units >= 0 held to ``decimals`` places; else :class:`InvalidAmount`."""
    try:
        d = parse_number(value)
    except NumberError as exc:
        raise InvalidAmount(field, value, exc.reason) from None
    if d < ZERO:
        raise InvalidAmount(field, value, "must be >= 0")
    if quantize_down(d, decimals) != d:
        raise InvalidAmount(field, value, f"has more than {decimals} decimal places")
    return d
