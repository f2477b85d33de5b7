"""The book as the simulation kernels see it: accounts x assets in CSR, float64.

Row ``i`` (an account) holds entries ``indptr[i]:indptr[i+1]``, one per asset it
supplies or borrows, sorted by asset: the asset (``col``) and the units supplied and
borrowed (``s``, ``b``). Parameters come from the market's one float packing
(:class:`xmargin.fast.packing.MarketPack`); per entry the kernels read the weights of
its account's category (``wts``), per asset the size factor, liability weights and fee
(``ap``). ``wnet`` (quote per unit of price) is the entry's net maintenance weight at
today's balances, ``s lt_eff - b mbw_eff``
(:func:`xmargin.fast.liquidation_price.price_slope`), so that for any prices ``P`` an
account's ``mc - md`` is ``Σ wnet P[col]``: linear in prices, which is what lets one-step
risk be a sparse product over paths.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.kernel_layout import (
    A_BW,
    A_FEE,
    A_KSZ,
    A_MBW,
    N_A,
    SimArrays,
)
from xmargin.analytics.simoptions import SimOptions
from xmargin.analytics.simperps import SimPerps
from xmargin.errors import InputError
from xmargin.fast.health import health_factor
from xmargin.fast.liquidation_price import price_slope
from xmargin.fast.packing import MarketPack
from xmargin.fast.weights import effective_weights
from xmargin.model.market import Market

__all__ = ["SimBook", "load_simbook", "perps_left_out"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class SimBook:
    """A market's accounts as flat float64 arrays over its packing (module docstring)."""

    pack: MarketPack
    account_ids: tuple[str, ...]
    indptr: IntArray
    col: IntArray
    s: FloatArray
    b: FloatArray
    #: per account, its category index in the packing (``no_category`` for none)
    cat: IntArray
    #: accounts of the market that hold perp positions, which this book leaves out
    #: (:meth:`warn_perps_left_out`)
    perp_accounts: int = 0
    #: their positions, where the book was read with them (:mod:`.simperps`)
    perps: SimPerps | None = None
    #: their option positions (:mod:`.simoptions`), ``None`` when none holds one
    options: SimOptions | None = None
    #: entry -> account (row) index
    row: IntArray = field(init=False)
    #: s lt_eff and b mbw_eff (quote per unit of price), and wnet = wmc - wmd
    wmc: FloatArray = field(init=False)
    wmd: FloatArray = field(init=False)
    #: s lt_eff - b mbw_eff, s cf_eff, b bw_eff at today's balances (per entry)
    wnet: FloatArray = field(init=False)
    wic: FloatArray = field(init=False)
    wid: FloatArray = field(init=False)
    max_row: int = field(init=False)
    #: packed for the kernels: per entry (cf, lt, bonus); per asset (k, bw, mbw, fee)
    wts: FloatArray = field(init=False)
    ap: FloatArray = field(init=False)
    #: accounts that borrow anything (only they can become liquidatable)
    debtors: NDArray[np.bool_] = field(init=False)

    def __post_init__(self) -> None:
        sp = self.pack.spot
        n_acc = len(self.indptr) - 1
        counts = np.diff(self.indptr)
        row = np.repeat(np.arange(n_acc, dtype=np.int64), counts)
        ec = self.cat[row]
        wts = np.ascontiguousarray(
            np.stack(
                [
                    sp.initial[ec, self.col, 0],
                    sp.maintenance[ec, self.col, 0],
                    sp.bonus[ec, self.col],
                ],
                1,
            )
        )
        ap = np.empty((len(sp.assets), N_A))
        ap[:, A_KSZ] = sp.size_factor
        ap[:, A_BW] = sp.borrow_weight
        ap[:, A_MBW] = sp.maintenance_borrow_weight
        ap[:, A_FEE] = sp.protocol_fee
        c = self.col
        with np.errstate(all="ignore"):
            cf, lt, bw, mbw = effective_weights(
                self.s, self.b, wts[:, 0], wts[:, 1], ap[c, A_BW], ap[c, A_MBW], ap[c, A_KSZ]
            )
        owes = np.bincount(row, weights=(self.b > 0), minlength=n_acc) > 0
        full = self._full_value(row)
        if full.any():  # portfolio margin values these balances at full value (6.3)
            cf, lt, bw, mbw = (np.where(full, 1.0, w) for w in (cf, lt, bw, mbw))
        for name, value in (
            ("row", row),
            ("max_row", int(counts.max()) if n_acc else 0),
            ("wts", wts),
            ("ap", ap),
            ("wmc", self.s * lt),
            ("wmd", self.b * mbw),
            ("wnet", price_slope(self.s, self.b, lt, mbw)),
            ("wic", self.s * cf),
            ("wid", self.b * bw),
            ("debtors", np.asarray(owes, dtype=np.bool_)),
        ):
            object.__setattr__(self, name, value)

    def _full_value(self, row: IntArray) -> NDArray[np.bool_]:
        """Per entry, whether portfolio margin values it at full value: a balance of a
        scenario underlying of a portfolio-margined account (:mod:`.simportfolio`)."""
        out = np.zeros(len(row), np.bool_)
        rows, cols = self.full_value_entries()
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            out |= (row == r) & (self.col == c)
        return out

    def full_value_entries(self) -> tuple[IntArray, IntArray]:
        """(book rows, asset columns) of the balances portfolio margin values at full
        value: the scenario underlyings of every portfolio-margined account."""
        parts = []
        opts, perps = self.options, self.perps
        if opts is not None and opts.margined is not None:
            parts.append(opts.margined.entries(opts.held))
        if perps is not None and perps.margined is not None and perps.margined_rows is not None:
            parts.append(perps.margined.entries(perps.margined_rows))
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate([r for r, _ in parts]), np.concatenate([c for _, c in parts])

    # -- shape and parameters -------------------------------------------------------------
    @property
    def assets(self) -> tuple[str, ...]:
        return self.pack.spot.assets

    @property
    def price(self) -> FloatArray:
        """Today's prices (quote per unit), per asset."""
        return self.pack.spot.price

    @property
    def quote(self) -> str:
        return self.pack.quote

    @property
    def rules(self) -> FloatArray:
        """The market's rules as the kernels take them."""
        return self.pack.rules.vector()

    @property
    def n_accounts(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_assets(self) -> int:
        return len(self.assets)

    def arrays(self) -> SimArrays:
        """The static arrays, packed for the kernels."""
        return SimArrays(self.indptr, self.col, self.wts, self.ap, self.rules, max(1, self.max_row))

    def has_debt(self) -> NDArray[np.bool_]:
        """Accounts that borrow anything (only they can become liquidatable)."""
        return self.debtors

    def carried_rows(self) -> IntArray:
        """Accounts whose health the spot kernels cannot judge alone: those holding a perp
        or an option (sorted rows), carried apart by the simulations."""
        rows = np.zeros(0, np.int64)
        if self.perps is not None:
            rows = self.perps.accounts()
        if self.options is not None:
            rows = np.union1d(rows, self.options.held)
        out: IntArray = rows.astype(np.int64)
        return out

    def per_account(self, per_entry: FloatArray) -> FloatArray:
        """Sum a per-entry quantity by account."""
        return np.asarray(
            np.bincount(self.row, weights=per_entry, minlength=self.n_accounts), np.float64
        )

    def watch_list(self, lo: FloatArray, hi: FloatArray) -> IntArray:
        """Accounts that can be liquidatable at some prices within ``[lo, hi]`` per asset
        (an exact pruning, :meth:`xmargin.analytics.sim_kernels.SimKernels.watch_mask`)."""
        from xmargin.analytics.sim_kernels import sim_kernels

        mask = sim_kernels().watch_mask(
            self.indptr,
            self.col,
            self.wnet,
            self.debtors,
            np.asarray(lo, np.float64),
            np.asarray(hi, np.float64),
        )
        out: IntArray = np.flatnonzero(mask).astype(np.int64)
        return out

    def rows_of(self, accounts: IntArray) -> tuple[IntArray, IntArray]:
        """``(ptr, entries)``: the entries of ``accounts``, gathered as a CSR of their own."""
        lens = self.indptr[accounts + 1] - self.indptr[accounts]
        ptr = np.zeros(len(accounts) + 1, np.int64)
        np.cumsum(lens, out=ptr[1:])
        starts = np.repeat(self.indptr[accounts], lens)
        within = np.arange(int(ptr[-1]), dtype=np.int64) - np.repeat(ptr[:-1], lens)
        return ptr, starts + within

    def margin(self, prices: FloatArray) -> FloatArray:
        """``mc - md`` of every account at ``prices`` (one row per path, or one vector)."""
        p = np.atleast_2d(prices)
        out = np.stack([self.per_account(self.wnet * row[self.col]) for row in p])
        if self.perps is not None:
            ps = self.perps.sums(p, self.n_accounts)
            out += ps[4] - ps[5]
        if self.options is not None:
            os_ = self.options.sums(p, self.n_accounts)
            out += os_[4] - os_[5]
        res: FloatArray = out if np.ndim(prices) == 2 else out[0]
        return res

    def health_factors(self, prices: FloatArray | None = None) -> FloatArray:
        """mc / md per account at ``prices`` (today's by default); NaN without debt."""
        at = self.price if prices is None else np.asarray(prices, np.float64)
        p = at[self.col]
        mc = self.per_account(self.wmc * p)
        md = self.per_account(self.wmd * p)
        if self.perps is not None:
            ps = self.perps.sums(at, self.n_accounts)
            mc, md = mc + ps[4], md + ps[5]
        if self.options is not None:
            os_ = self.options.sums(at, self.n_accounts)
            mc, md = mc + os_[4], md + os_[5]
        with np.errstate(all="ignore"):
            out: FloatArray = health_factor(mc, md)
        return out

    def warn_perps_left_out(self, carried: bool = False) -> None:
        """Warn (once per simulation) that accounts' perp positions are left out, so that
        no figure silently omits them; the CLI prints it as a ``warning:`` line.
        ``carried``: the simulation includes the perps this book carries (no warning
        then, unless the book was read without them)."""
        if carried and self.perps is not None:
            return
        note = _note(self.perp_accounts)
        if note is not None:
            warnings.warn(note, UserWarning, stacklevel=3)

    def asset_index(self, symbol: str, where: str = "") -> int:
        try:
            return self.assets.index(symbol)
        except ValueError:
            loc = f"{where}: " if where else ""
            raise InputError(
                f"{loc}unknown asset {symbol!r}; the market lists {', '.join(self.assets)}"
            ) from None

    def with_balances(self, s: FloatArray, b: FloatArray) -> SimBook:
        """The same book with other balances (same entries); portfolio margin's units
        take their balances of U from them."""
        opts, perps = self.options, self.perps
        if opts is not None and opts.margined is not None:
            units = opts.margined.with_balances(opts.held, self.indptr, self.col, s, b)
            opts = replace(opts, margined=units)
        if perps is not None and perps.margined is not None and perps.margined_rows is not None:
            units = perps.margined.with_balances(perps.margined_rows, self.indptr, self.col, s, b)
            perps = replace(perps, margined=units)
        return SimBook(
            self.pack, self.account_ids, self.indptr, self.col, s, b, self.cat,
            self.perp_accounts, perps, opts,
        )  # fmt: skip

    def with_options(self, options: SimOptions | None) -> SimBook:
        """The same book with other option positions (a volatility shock)."""
        return SimBook(
            self.pack, self.account_ids, self.indptr, self.col, self.s, self.b, self.cat,
            self.perp_accounts, self.perps, options,
        )  # fmt: skip

    def with_pack(self, pack: MarketPack) -> SimBook:
        """The same positions under the parameters of ``pack``, which must list the same
        assets and categories in the same order (a pack derived from this book's, as
        :meth:`with_asset_params` makes); every weight is packed again from it."""
        if pack.spot.assets != self.assets or pack.spot.categories != self.pack.spot.categories:
            raise ValueError("a book re-packed must keep its assets and categories")
        return SimBook(
            pack, self.account_ids, self.indptr, self.col, self.s, self.b, self.cat,
            self.perp_accounts, self.perps, self.options,
        )  # fmt: skip

    def with_asset_params(
        self, changes: Mapping[str, Mapping[str, object]], where: str = "asset"
    ) -> SimBook:
        """The same positions with some assets' parameters changed
        (:meth:`xmargin.fast.packing.MarketPack.with_asset_params`: validated again, the
        category rule applied again)."""
        return self.with_pack(self.pack.with_asset_params(changes, where))

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_market(cls, market: Market, accounts: Sequence[str] | None = None) -> SimBook:
        """Every account of ``market`` (or those named), packed through the exact rules."""
        pack = MarketPack.of_market(market)
        sp = pack.spot
        ids = list(market.accounts) if accounts is None else list(accounts)
        pos_row: list[int] = []
        pos_asset: list[int] = []
        supply: list[float] = []
        borrow: list[float] = []
        cat = np.full(len(ids), sp.no_category, np.int64)
        for r, acc_id in enumerate(ids):
            acc = market.account(acc_id)
            if acc.category is not None:
                market.category_of(acc)  # refuses an unknown category
                cat[r] = sp.category_index[acc.category]
            for a in set(acc.supply) | set(acc.borrow):
                pos_row.append(r)
                pos_asset.append(sp.asset_index[a])
                supply.append(float(acc.supplied(a)))
                borrow.append(float(acc.borrowed(a)))
        book = cls.from_positions(
            pack,
            ids,
            cat,
            np.array(pos_row, np.int64),
            np.array(pos_asset, np.int64),
            np.array(supply, np.float64),
            np.array(borrow, np.float64),
        )
        holders = sum(1 for i in ids if market.account(i).perps)
        perps = None
        if holders:
            perps = SimPerps.of_market(market, ids, dict(sp.asset_index), sp.price)
        options = SimOptions.of_market(market, ids, dict(sp.asset_index), sp.price, perps)
        if perps is not None:  # portfolio margin's scenarios replace their margin
            perps = perps.with_portfolio(market, ids, dict(sp.asset_index), options)
        return SimBook(
            pack, book.account_ids, book.indptr, book.col, book.s, book.b, book.cat,
            holders, perps, options,
        )  # fmt: skip

    @classmethod
    def from_positions(
        cls,
        pack: MarketPack,
        ids: Sequence[str],
        cat: IntArray,
        pos_row: IntArray,
        pos_asset: IntArray,
        supply: FloatArray,
        borrow: FloatArray,
    ) -> SimBook:
        """A book from long-form positions (the risk book's columns), vectorized."""
        n_acc = len(ids)
        keep = (supply > 0) | (borrow > 0)
        order = np.lexsort((pos_asset[keep], pos_row[keep]))
        row = pos_row[keep][order]
        indptr = np.zeros(n_acc + 1, np.int64)
        np.cumsum(np.bincount(row, minlength=n_acc), out=indptr[1:])
        return cls(
            pack,
            tuple(ids),
            indptr,
            pos_asset[keep][order].astype(np.int64),
            supply[keep][order].astype(np.float64),
            borrow[keep][order].astype(np.float64),
            np.asarray(cat, np.int64),
        )


def perps_left_out(market: Market) -> str | None:
    """A note when accounts of ``market`` hold perp positions, which the simulation book
    does not carry yet (their spot balances are simulated, their perps are not); ``None``
    when none does."""
    return _note(sum(1 for a in market.accounts.values() if a.perps))


def _note(n: int) -> str | None:
    if not n:
        return None
    return (
        f"{n} account{'s' if n > 1 else ''} hold perp positions; the simulations do not "
        "model perps yet: their spot balances are simulated, their perps are left out"
    )


def load_simbook(path: str | Path) -> tuple[SimBook, Market]:
    """Load a market file as a :class:`SimBook`, and its market.

    A market whose accounts live in an ``accounts_file`` is read in columns by the risk
    book's loader (:func:`xmargin.book.loading.open_market_columns`); anything that loader
    cannot clear at once (and any inline account) goes through the exact loader, which
    reports every problem with its location. So does a market with a ``perps_file`` or an
    ``options_file``: the simulations carry those positions (:class:`SimPerps`,
    :class:`SimOptions`) and the option blocks read them from the market's accounts, which
    only the exact loader builds. The market returned holds the parameters, and the
    accounts only where the exact loader read them.
    """
    from xmargin.book.loading import open_market_columns
    from xmargin.io.market_file import load_market

    p = Path(path)
    opened = open_market_columns(p)
    if (
        opened is not None
        and not opened.market.accounts
        and opened.perps_file is None  # positions the columns do not carry
        and opened.options_file is None
    ):
        cols, market = opened.columns, opened.market
        book = SimBook.from_positions(
            MarketPack.of_market(market),
            [str(x) for x in cols.ids.to_pylist()],
            cols.cat.astype(np.int64),
            cols.pos_row.astype(np.int64),
            cols.pos_asset.astype(np.int64),
            cols.supply,
            cols.borrow,
        )
        return book, market
    market = load_market(p)
    return SimBook.from_market(market), market
