"""The book as the simulation kernels see it: accounts x assets in CSR, float64.

Row ``i`` (an account) holds entries ``indptr[i]:indptr[i+1]``, one per asset it
supplies or borrows, sorted by asset. Per entry: the asset (``col``), the units supplied
and borrowed (``s``, ``b``), and the weights after the category rule and before the size
haircut (``cf``, ``lt``, ``bonus``; contract 1.2). Per asset: the size factor, the
liability weights and the protocol fee. ``wnet`` (quote per unit of price) is the entry's
net maintenance weight at today's balances, ``s lt_eff - b mbw_eff``, so that for any
prices ``P`` an account's ``mc - md`` is ``Σ wnet P[col]``: linear in prices, which is
what lets one-step risk be a sparse matrix product over paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.kernels import FIXED, HEALTH, THRESHOLD
from xmargin.errors import InputError
from xmargin.model.market import Market
from xmargin.model.params import AssetParams, BonusPolicy, CategoryParams, MarketParams
from xmargin.risk.weights import category_weights

__all__ = ["SimBook", "load_simbook", "rules_vector"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_POLICY = {BonusPolicy.FIXED: FIXED, BonusPolicy.THRESHOLD: THRESHOLD, BonusPolicy.HEALTH: HEALTH}


def rules_vector(params: MarketParams) -> FloatArray:
    """Market rules of contract 3 as the kernels' ``rules`` vector."""
    return np.array(
        [
            float(params.close_factor),
            float(params.full_liquidation_health),
            float(params.small_position_value),
            float(params.min_leftover_value),
            float(_POLICY[params.bonus_policy]),
            float(params.max_bonus),
        ]
    )


@dataclass(frozen=True, eq=False)
class SimBook:
    """A market's accounts and parameters as flat float64 arrays (see the module doc)."""

    assets: tuple[str, ...]
    account_ids: tuple[str, ...]
    price: FloatArray
    indptr: IntArray
    col: IntArray
    s: FloatArray
    b: FloatArray
    cf: FloatArray
    lt: FloatArray
    bonus: FloatArray
    size_factor: FloatArray
    borrow_weight: FloatArray
    maintenance_borrow_weight: FloatArray
    protocol_fee: FloatArray
    rules: FloatArray
    quote: str = "USD"
    #: entry -> account (row) index
    row: IntArray = field(init=False)
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
        n_acc = len(self.indptr) - 1
        counts = np.diff(self.indptr)
        object.__setattr__(self, "row", np.repeat(np.arange(n_acc, dtype=np.int64), counts))
        object.__setattr__(self, "max_row", int(counts.max()) if n_acc else 0)
        k = self.size_factor[self.col]
        lt_eff = _haircut_assets(self.lt, k, self.s)
        cf_eff = _haircut_assets(self.cf, k, self.s)
        mbw_eff = _haircut_liabilities(self.maintenance_borrow_weight[self.col], k, self.b)
        bw_eff = _haircut_liabilities(self.borrow_weight[self.col], k, self.b)
        object.__setattr__(self, "wnet", self.s * lt_eff - self.b * mbw_eff)
        object.__setattr__(self, "wic", self.s * cf_eff)
        object.__setattr__(self, "wid", self.b * bw_eff)
        owes = np.bincount(self.row, weights=(self.b > 0), minlength=n_acc) > 0
        object.__setattr__(self, "debtors", np.asarray(owes, dtype=np.bool_))
        object.__setattr__(
            self, "wts", np.ascontiguousarray(np.stack([self.cf, self.lt, self.bonus], 1))
        )
        object.__setattr__(
            self,
            "ap",
            np.ascontiguousarray(
                np.stack(
                    [
                        self.size_factor,
                        self.borrow_weight,
                        self.maintenance_borrow_weight,
                        self.protocol_fee,
                    ],
                    1,
                )
            ),
        )

    @property
    def n_accounts(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_assets(self) -> int:
        return len(self.assets)

    def has_debt(self) -> NDArray[np.bool_]:
        """Accounts that borrow anything (only they can become liquidatable)."""
        return self.debtors

    def per_account(self, per_entry: FloatArray) -> FloatArray:
        """Sum a per-entry quantity by account."""
        return np.asarray(
            np.bincount(self.row, weights=per_entry, minlength=self.n_accounts), np.float64
        )

    def watch_list(self, lo: FloatArray, hi: FloatArray) -> IntArray:
        """Accounts that can be liquidatable at some prices within ``[lo, hi]`` per asset.

        An exact pruning (:func:`xmargin.analytics.kernels.watch_mask`): ``Σ wnet P`` is
        smallest with every collateral at ``lo`` and every debt at ``hi``.
        """
        from xmargin.analytics.kernels import watch_mask

        mask = np.empty(self.n_accounts, np.bool_)
        watch_mask(
            self.indptr,
            self.col,
            self.wnet,
            self.debtors,
            np.asarray(lo, np.float64),
            np.asarray(hi, np.float64),
            mask,
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
        res: FloatArray = out if np.ndim(prices) == 2 else out[0]
        return res

    def health_factors(self, prices: FloatArray | None = None) -> FloatArray:
        """mc / md per account at ``prices`` (today's by default); NaN without debt."""
        p = self.price if prices is None else prices
        k = self.size_factor[self.col]
        mc = self.per_account(self.s * _haircut_assets(self.lt, k, self.s) * p[self.col])
        md = self.per_account(
            self.b
            * _haircut_liabilities(self.maintenance_borrow_weight[self.col], k, self.b)
            * p[self.col]
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.where(md > 0, mc / md, np.nan)
        return out

    def asset_index(self, symbol: str, where: str = "") -> int:
        try:
            return self.assets.index(symbol)
        except ValueError:
            loc = f"{where}: " if where else ""
            raise InputError(
                f"{loc}unknown asset {symbol!r}; the market lists {', '.join(self.assets)}"
            ) from None

    def with_balances(self, s: FloatArray, b: FloatArray) -> SimBook:
        """The same book with other balances (same entries)."""
        return SimBook(
            self.assets,
            self.account_ids,
            self.price,
            self.indptr,
            self.col,
            s,
            b,
            self.cf,
            self.lt,
            self.bonus,
            self.size_factor,
            self.borrow_weight,
            self.maintenance_borrow_weight,
            self.protocol_fee,
            self.rules,
            self.quote,
        )

    @classmethod
    def from_market(cls, market: Market, accounts: Sequence[str] | None = None) -> SimBook:
        """Every account of ``market`` (or those named), weights from the exact engine."""
        assets = tuple(market.assets)
        index = {a: j for j, a in enumerate(assets)}
        ids = list(market.accounts) if accounts is None else list(accounts)
        indptr = [0]
        col: list[int] = []
        s: list[float] = []
        b: list[float] = []
        cf: list[float] = []
        lt: list[float] = []
        bonus: list[float] = []
        for acc_id in ids:
            acc = market.account(acc_id)
            category = market.category_of(acc)
            held = sorted(set(acc.supply) | set(acc.borrow), key=index.__getitem__)
            for a in held:
                w = category_weights(market.assets[a], category)
                col.append(index[a])
                s.append(float(acc.supplied(a)))
                b.append(float(acc.borrowed(a)))
                cf.append(float(w.collateral_factor))
                lt.append(float(w.liquidation_threshold))
                bonus.append(float(w.liquidation_bonus))
            indptr.append(len(col))
        ap = [market.assets[a] for a in assets]
        return cls(
            assets,
            tuple(ids),
            np.array([float(x.price) for x in ap]),
            np.array(indptr, dtype=np.int64),
            np.array(col, dtype=np.int64),
            np.array(s, dtype=np.float64),
            np.array(b, dtype=np.float64),
            np.array(cf, dtype=np.float64),
            np.array(lt, dtype=np.float64),
            np.array(bonus, dtype=np.float64),
            np.array([float(x.size_factor) for x in ap]),
            np.array([float(x.borrow_weight) for x in ap]),
            np.array([float(x.maintenance_borrow_weight) for x in ap]),
            np.array([float(x.protocol_fee) for x in ap]),
            rules_vector(market.params),
            market.params.quote,
        )


def _from_positions(
    params: MarketParams,
    assets: dict[str, AssetParams],
    categories: dict[str, CategoryParams],
    ids: Sequence[str],
    acc_cat: IntArray,
    pos_row: IntArray,
    pos_asset: IntArray,
    supply: FloatArray,
    borrow: FloatArray,
) -> SimBook:
    """Build a SimBook from long-form positions (the risk book's columns), vectorized."""
    names = tuple(assets)
    cats = tuple(categories)
    n_acc = len(ids)
    keep = (supply > 0) | (borrow > 0)
    order = np.lexsort((pos_asset[keep], pos_row[keep]))
    row = pos_row[keep][order]
    col = pos_asset[keep][order].astype(np.int64)
    s = supply[keep][order].astype(np.float64)
    b = borrow[keep][order].astype(np.float64)
    indptr = np.zeros(n_acc + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=n_acc), out=indptr[1:])
    # Weight tables (categories + 1) x assets, the category rule applied (contract 1.2).
    n_cat = len(cats)
    cf_t = np.empty((n_cat + 1, len(names)))
    lt_t = np.empty_like(cf_t)
    bo_t = np.empty_like(cf_t)
    for c in range(n_cat + 1):
        cat = categories[cats[c]] if c < n_cat else None
        for a, sym in enumerate(names):
            w = category_weights(assets[sym], cat)
            cf_t[c, a] = float(w.collateral_factor)
            lt_t[c, a] = float(w.liquidation_threshold)
            bo_t[c, a] = float(w.liquidation_bonus)
    ec = acc_cat[row]
    ap = [assets[x] for x in names]
    return SimBook(
        names,
        tuple(ids),
        np.array([float(x.price) for x in ap]),
        indptr,
        col,
        s,
        b,
        cf_t[ec, col],
        lt_t[ec, col],
        bo_t[ec, col],
        np.array([float(x.size_factor) for x in ap]),
        np.array([float(x.borrow_weight) for x in ap]),
        np.array([float(x.maintenance_borrow_weight) for x in ap]),
        np.array([float(x.protocol_fee) for x in ap]),
        rules_vector(params),
        params.quote,
    )


def load_simbook(path: str | Path) -> tuple[SimBook, Market | None]:
    """Load a market file as a :class:`SimBook`.

    A market whose accounts live in an ``accounts_file`` is read in columns by the risk
    book's loader (:func:`xmargin.book.loader.read_position_columns`), after its
    parameters pass the contract's validation; anything that loader cannot clear at once
    (and any inline account) goes through the exact loader, which reports every problem
    with its location. Returns the book and, when the exact loader was used, the market.
    """
    from xmargin.book.loader import NeedsExactLoad, read_position_columns
    from xmargin.io.market_file import load_market, parse_market, read_market_document

    p = Path(path)
    raw, _ = read_market_document(p)
    mk = raw.get("market")
    if isinstance(mk, dict) and mk.get("accounts_file") and not raw.get("accounts"):
        head = {**raw, "market": {k: v for k, v in mk.items() if k != "accounts_file"}}
        market = parse_market(head, str(p), base_dir=p.parent)
        try:
            cols = read_position_columns(
                p.parent / str(mk["accounts_file"]), market.assets, tuple(market.categories), ()
            )
        except NeedsExactLoad:
            pass
        else:
            ids = [str(x) for x in cols.ids.to_pylist()]
            return (
                _from_positions(
                    market.params,
                    market.assets,
                    market.categories,
                    ids,
                    cols.cat.astype(np.int64),
                    cols.pos_row.astype(np.int64),
                    cols.pos_asset.astype(np.int64),
                    cols.supply,
                    cols.borrow,
                ),
                None,
            )
    market = load_market(p)
    return SimBook.from_market(market), market


def _haircut_assets(w: FloatArray, k: FloatArray, s: FloatArray) -> FloatArray:
    """Vectorized ``kernels.size_haircut_asset_weight`` (contract 1.2)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = 1.1 / (1.0 + k * np.sqrt(s))
    out: FloatArray = np.where((k > 0) & (s > 0), np.minimum(w, cap), w)
    return out


def _haircut_liabilities(lw: FloatArray, k: FloatArray, b: FloatArray) -> FloatArray:
    """Vectorized ``kernels.size_haircut_liability_weight`` (contract 1.2)."""
    out: FloatArray = np.where((k > 0) & (b > 0), np.maximum(lw, 0.8 * lw + k * np.sqrt(b)), lw)
    return out
