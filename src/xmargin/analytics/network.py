"""Concentration and liquidation contagion in the book (contract 7.3), vectorised.

At the reference prices (today's, or after ``--shock``: :func:`xmargin.risk.shocks.shocked_prices`,
exact, then packed as floats):

- **Concentration** per asset: HHI = Σ (account's share of the asset's total supply
  value)², and of debt; top-10 shares. Each (account, asset) is one book entry, so the
  shares are the entries' shares.
- **Seized share**: the book liquidated at the reference prices by the engine's rules
  (:func:`xmargin.simulate.settle`); units seized over units supplied, per asset.
- **Contagion**: a full liquidation of account ``i`` would sell
  ``q = min(s, D·(1+β)/P)`` units of each collateral ``a`` (``D`` its debt value, ``β``
  the entry's bonus) into ``a``'s liquidity (the market file's model) at mid ``P``,
  moving the mid to ``m' = mid_after(P, q)``. Account ``j ≠ i``, healthy, whose
  liquidation price of ``a`` (every other price fixed;
  :func:`xmargin.fast.liquidation_price.liquidation_price`, ``P − (mc − md)_j / wnet_ja``)
  lies in ``[m', P)``, is then pushed
  into liquidation: an edge ``i → j`` through ``a``. An asset without a model sells at
  mid and carries no edge.
- **Largest cascade**: the most accounts reachable from one account along edges,
  itself included. In each asset the victims of a sale are a prefix of the accounts
  sorted by liquidation price (highest first), so reachability advances a pointer per
  asset, a wave at a time. Sources are tried by their first-wave reach, largest first;
  a source already inside an earlier cascade is skipped (its cascade is contained in
  that one), so the maximum is exact when every remaining source was examined
  (``exact``) and a lower bound otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xmargin import simulate as sim
from xmargin.analytics.analysis_inputs import number
from xmargin.analytics.clearing import ClearingResult, Entity, clear
from xmargin.analytics.kernel_layout import W_BONUS
from xmargin.fast.health import is_liquidatable
from xmargin.fast.liquidation_price import liquidation_price
from xmargin.mathlib import fmt
from xmargin.risk.shocks import shocked_prices

__all__ = ["Contagion", "NetworkResult", "concentration", "contagion", "network", "prices_after"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def prices_after(book: sim.SimBook, shocks: Mapping[str, Decimal]) -> FloatArray:
    """The book's prices with ``shocks`` applied exactly (``{"WETH": Decimal("-0.3")}``
    multiplies by 0.7), as float64 in the book's asset order."""
    pack = book.pack
    exact = {a: ap.price for a, ap in pack.assets.items()}
    exact.update(shocked_prices(exact, shocks))
    return pack.spot.prices_of(exact)


def _group_top(col: IntArray, values: FloatArray, n_assets: int, k: int) -> FloatArray:
    """Per asset, the sum of its ``k`` largest entry values."""
    order = np.lexsort((-values, col))
    c = col[order]
    starts = np.searchsorted(c, np.arange(n_assets))
    rank = np.arange(len(c)) - starts[c]
    keep = rank < k
    out = np.bincount(c[keep], weights=values[order][keep], minlength=n_assets)
    return np.asarray(out, dtype=np.float64)


def concentration(book: sim.SimBook, prices: FloatArray) -> list[dict[str, Any]]:
    """HHI and top-10 share of supply and debt value per asset (``null`` for a zero total)."""
    n = book.n_assets
    rows: list[dict[str, Any]] = [{"asset": a} for a in book.assets]
    for side, units in (("supply", book.s), ("debt", book.b)):
        v = units * prices[book.col]
        total = np.bincount(book.col, weights=v, minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total[book.col] > 0, v / total[book.col], 0.0)
            hhi = np.bincount(book.col, weights=share**2, minlength=n)
            top = np.minimum(_group_top(book.col, v, n, 10) / total, 1.0)
        for j in range(n):
            ok = total[j] > 0
            rows[j][f"{side}_hhi"] = number(hhi[j]) if ok else None
            rows[j][f"top10_{side}_share"] = number(top[j]) if ok else None
            rows[j][f"{side}_value"] = number(total[j])
            rows[j][f"{side}_accounts"] = int(np.count_nonzero((book.col == j) & (units > 0)))
    return rows


@dataclass
class Contagion:
    """Edges (compact: per seller entry, how many victims of its asset it reaches)."""

    book: sim.SimBook
    victims: list[IntArray]
    victim_price: list[FloatArray]
    seller_entry: IntArray
    reach: IntArray
    mid_after: FloatArray
    largest: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    largest_source: int = -1
    sources_examined: int = 0
    sources_total: int = 0

    @property
    def exact(self) -> bool:
        return self.sources_examined >= self.sources_total

    def _self_in_prefix(self) -> NDArray[np.bool_]:
        book = self.book
        out = np.zeros(len(self.seller_entry), np.bool_)
        for a, vic in enumerate(self.victims):
            on = book.col[self.seller_entry] == a
            if not on.any() or not len(vic):
                continue
            rank = np.full(book.n_accounts, len(vic), np.int64)
            rank[vic] = np.arange(len(vic))
            r = rank[book.row[self.seller_entry[on]]]
            out[on] = r < self.reach[on]
        return out

    @property
    def edge_count(self) -> int:
        return int(self.reach.sum() - self._self_in_prefix().sum())

    def edges(self, limit: int) -> Iterator[tuple[int, int, int]]:
        """``(from account, to account, asset)``, by asset then seller, at most ``limit``."""
        book = self.book
        order = np.lexsort((book.row[self.seller_entry], book.col[self.seller_entry]))
        n = 0
        for e_i in order:
            k = int(self.reach[e_i])
            if k == 0:
                continue
            e = int(self.seller_entry[e_i])
            i, a = int(book.row[e]), int(book.col[e])
            for j in self.victims[a][:k]:
                if j == i:
                    continue
                if n >= limit:
                    return
                n += 1
                yield i, int(j), a


def contagion(
    book: sim.SimBook, prices: FloatArray, liquidity: sim.Liquidity, max_sources: int = 2000
) -> Contagion:
    """Edges and the largest cascade at ``prices`` (see the module docstring)."""
    col, row = book.col, book.row
    mc = book.per_account(book.wmc * prices[col])
    md = book.per_account(book.wmd * prices[col])
    debt = book.per_account(book.b * prices[col])
    healthy = book.debtors & ~is_liquidatable(mc, md)
    victims: list[IntArray] = []
    vprice: list[FloatArray] = []
    seller_parts: list[IntArray] = []
    reach_parts: list[IntArray] = []
    mid_parts: list[FloatArray] = []
    for a in range(book.n_assets):
        e = np.flatnonzero(col == a)
        p = float(prices[a])
        if liquidity.kind[a] == 0 or len(e) == 0:
            victims.append(np.zeros(0, np.int64))
            vprice.append(np.zeros(0))
            continue
        w = book.wnet[e]
        vic = (w > 0) & healthy[row[e]]
        r = row[e[vic]]
        lp = liquidation_price(p, mc[r], md[r], w[vic])
        keep = ~np.isnan(lp)
        accounts, lp = r[keep], lp[keep]
        order = np.argsort(-lp, kind="stable")
        victims.append(accounts[order].astype(np.int64))
        vprice.append(lp[order])
        sell = e[(book.s[e] > 0) & book.debtors[row[e]]]
        q = np.minimum(book.s[sell], debt[row[sell]] * (1.0 + book.wts[sell, W_BONUS]) / p)
        m2 = liquidity.mid_after(np.full(len(sell), a), np.full(len(sell), p), q)
        k = np.searchsorted(-vprice[a], -m2, side="right").astype(np.int64)
        seller_parts.append(sell.astype(np.int64))
        reach_parts.append(k)
        mid_parts.append(m2)
    c = Contagion(
        book,
        victims,
        vprice,
        _cat_int(seller_parts),
        _cat_int(reach_parts),
        np.concatenate(mid_parts) if mid_parts else np.zeros(0),
    )
    _largest_cascade(c, max_sources)
    return c


def _cat_int(parts: list[IntArray]) -> IntArray:
    out: IntArray = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return out


def _largest_cascade(c: Contagion, max_sources: int) -> None:
    book = c.book
    n_acc = book.n_accounts
    # Per account, its seller entries' reach by asset (CSR over accounts).
    acc = book.row[c.seller_entry]
    first_reach = np.bincount(acc, weights=c.reach, minlength=n_acc)
    sources = np.flatnonzero(first_reach > 0)
    sources = sources[np.argsort(-first_reach[sources], kind="stable")]
    c.sources_total = len(sources)
    by_acc = np.argsort(acc, kind="stable")
    acc_ptr = np.zeros(n_acc + 1, np.int64)
    np.cumsum(np.bincount(acc, minlength=n_acc), out=acc_ptr[1:])
    covered = np.zeros(n_acc, np.bool_)
    # stamp[j] == k: account j is in the cascade of the k-th source examined (no
    # per-source array of n_accounts is allocated).
    stamp = np.full(n_acc, -1, np.int64)
    best: IntArray = np.zeros(0, np.int64)
    best_src = -1
    examined = 0
    for src in sources:
        if covered[src]:
            c.sources_total -= 1
            continue
        if examined >= max_sources:
            break
        stamp[src] = examined
        ptr = np.zeros(book.n_assets, np.int64)
        wave = np.array([src], np.int64)
        members = [wave]
        while len(wave):
            lens = acc_ptr[wave + 1] - acc_ptr[wave]
            idx = np.repeat(acc_ptr[wave], lens) + (
                np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
            )
            ents = by_acc[idx]
            cols = book.col[c.seller_entry[ents]]
            top = np.zeros(book.n_assets, np.int64)
            np.maximum.at(top, cols, c.reach[ents])
            grow = np.flatnonzero(top > ptr)
            if not len(grow):
                break
            cand = np.concatenate([c.victims[a][ptr[a] : top[a]] for a in grow])
            ptr[grow] = top[grow]
            cand = np.unique(cand)
            wave = cand[stamp[cand] != examined]
            stamp[wave] = examined
            members.append(wave)
        examined += 1
        group = np.concatenate(members)
        covered[group] = True
        if len(group) > len(best):
            best, best_src = np.sort(group), int(src)
    c.largest = best if len(best) else np.zeros(0, np.int64)
    c.largest_source = best_src
    c.sources_examined = examined


@dataclass
class NetworkResult:
    """Everything ``xmargin network`` reports (entities are added by the caller)."""

    shocks: dict[str, Decimal]
    prices: FloatArray
    assets: list[dict[str, Any]]
    settle_totals: dict[str, float | int]
    contagion: Contagion
    max_edges: int
    clearing: ClearingResult | None = None

    def to_doc(self) -> dict[str, Any]:
        c = self.contagion
        book = c.book
        ids = book.account_ids
        edges = [
            {"from": ids[i], "to": ids[j], "asset": book.assets[a]}
            for i, j, a in c.edges(self.max_edges)
        ]
        count = c.edge_count
        doc: dict[str, Any] = {
            "shocks": {a: fmt(x) for a, x in self.shocks.items()},
            "assets": self.assets,
            "liquidation": {
                k: number(v) if isinstance(v, float) else v for k, v in self.settle_totals.items()
            },
            "contagion": {
                "edges": edges,
                "edge_count": count,
                "edges_truncated": count > len(edges),
                "largest_cascade": [ids[i] for i in c.largest],
                "largest_cascade_size": len(c.largest),
                "largest_cascade_source": None if c.largest_source < 0 else ids[c.largest_source],
                "sources_examined": c.sources_examined,
                "exact": c.exact,
            },
        }
        if self.clearing is not None:
            doc["entities"] = self.clearing.to_doc()
        return doc


def network(
    book: sim.SimBook,
    liquidity: sim.Liquidity,
    shocks: Mapping[str, Decimal],
    max_edges: int = 10_000,
    max_sources: int = 2000,
    entities: Sequence[Entity] | None = None,
) -> NetworkResult:
    """Concentration, seized shares and contagion at the shocked prices.

    With ``entities``, they are cleared first; an issuer's de-peg (module
    :mod:`xmargin.analytics.clearing`) moves its token's price, and every book figure is
    taken at the prices after it.
    """
    p = prices_after(book, shocks)
    cleared = None
    if entities:
        cleared = clear(entities, book.assets, p)
        p = cleared.prices
    rows = concentration(book, p)
    st = sim.settle(book, p)
    seized = np.bincount(book.col, weights=book.s - st.book_after.s, minlength=book.n_assets)
    supplied = np.bincount(book.col, weights=book.s, minlength=book.n_assets)
    for j, r in enumerate(rows):
        r["seized_share"] = number(seized[j] / supplied[j]) if supplied[j] > 0 else None
        r["price"] = number(p[j])
        r["liquidity_model"] = ["none", "cpmm", "depth"][int(liquidity.kind[j])]
    c = contagion(book, p, liquidity, max_sources)
    totals = st.totals()
    return NetworkResult(dict(shocks), p, rows, totals, c, max_edges, cleared)
