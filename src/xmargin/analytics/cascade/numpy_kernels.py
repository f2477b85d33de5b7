"""The cascade's kernels in NumPy: what runs where Numba is not installed.

The twins of :mod:`.numba_kernels`, on NumPy lanes (:mod:`xmargin.analytics.lanes`). A
round proposes for all its pairs at once, then liquidates those that may act in *waves*,
so that what one liquidation uses of the round's cap (of its path), or sells of an asset
(on its path, which the profit gate reads), is seen by the next as in the sequential
kernel: with a cap, the k-th pair of every path in wave k; with the gate alone, the k-th
of every (path, collateral asset); with neither, one wave takes them all. Detection needs no
pruning state: it computes every untouched debtor's margin on every path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics import lanes as ln
from xmargin.analytics.cascade import layout as lay
from xmargin.analytics.cascade.layout import (
    BoolArray,
    FloatArray,
    IntArray,
    PairArrays,
    RoundControl,
)
from xmargin.analytics.kernel_layout import NOT_LIQUIDATABLE, OK, SimArrays
from xmargin.analytics.liquidity import (
    NO_MODEL,
    LiquidityArrays,
    by_kind,
    mid_after,
    proceeds,
    units_until,
)
from xmargin.fast.health import is_liquidatable

__all__ = ["detect", "final", "impact", "one_round"]

#: Paths whose margins are computed at once (bounds the memory of detection).
_PATHS_AT_ONCE = 32


def detect(
    mids: FloatArray,
    debtors: IntArray,
    dptr: IntArray,
    dcol: IntArray,
    dnet: FloatArray,
    pair_of: NDArray[np.int32],
    paths: IntArray,
) -> tuple[IntArray, IntArray]:
    """Untouched debtors with ``Σ wnet P < 0`` on each of ``paths``: (count per path,
    accounts in path order and, within a path, account order)."""
    n_paths = mids.shape[0]
    counts = np.zeros(n_paths, np.int64)
    found: list[IntArray] = [np.zeros(0, np.int64)]
    if len(debtors) == 0:
        return counts, found[0]
    paths = np.sort(paths)
    for k in range(0, len(paths), _PATHS_AT_ONCE):
        ps = paths[k : k + _PATHS_AT_ONCE]
        m = np.add.reduceat(mids[ps][:, dcol] * dnet, dptr[:-1], axis=1)
        hit = (m < 0.0) & (pair_of[ps][:, debtors] < 0)
        rows, js = np.nonzero(hit)
        counts[ps] = np.bincount(rows, minlength=len(ps))
        found.append(debtors[js])
    return counts, np.concatenate(found)


def _liquidity_of(
    liq: LiquidityArrays, a: IntArray
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    return liq.kind[a], liq.k[a], liq.dx[a].T, liq.dv[a].T, liq.tail[a].T


def _waves(act: IntArray, group: IntArray) -> list[IntArray]:
    """``act`` in waves: the k-th element of every group in wave k (order kept)."""
    by_group = np.argsort(group, kind="stable")
    g = group[by_group]
    rank = np.empty(act.size, np.int64)
    rank[by_group] = np.arange(act.size) - np.searchsorted(g, g, side="left")
    return [act[rank == k] for k in range(int(rank.max()) + 1)]


def one_round(
    mids: FloatArray,
    pairs: PairArrays,
    bk: SimArrays,
    liq: LiquidityArrays,
    ctl: RoundControl,
    path_round: FloatArray,
) -> None:
    """One round on every active path, as ``numba_kernels.one_round`` (without its
    pruning).

    Every live pair's first proposal depends on its own balances and the mids only, so
    all are made at once; only the pairs that may act then go in waves, the k-th of each
    path together, in the order they were found.
    """
    t = pairs.order[pairs.live[pairs.order] != 0]
    on = np.zeros(mids.shape[0], np.bool_)
    on[ctl.active] = True
    t = t[on[pairs.path[t]]]
    if t.size == 0:
        return
    path = pairs.path[t]
    lanes = ln.Lanes.of(bk, pairs.acct[t], pairs.es, pairs.eb, pairs.off[t], mids[path])
    with np.errstate(all="ignore"):
        q = ln.propose(lanes, bk.ap, bk.rules, np.full(lanes.n, np.inf))
    ok = q.status == OK
    _count(path_round, path[(q.status != OK) & (q.status != NOT_LIQUIDATABLE)], lay.R_STUCK)
    a = lanes.col[np.maximum(q.coll, 0)]
    paused = ok & ctl.paused[path, a]
    _count(path_round, path[paused], lay.R_PAUSED)
    act = np.flatnonzero(ok & ~paused)
    if act.size == 0:
        return
    room = np.full(mids.shape[0], ctl.cap_value)
    if np.isfinite(ctl.cap_value):  # the cap ties every liquidation of a path to the last
        waves = _waves(act, path[act])
    elif ctl.gate:  # what was sold of an asset ties the liquidations seizing it
        waves = _waves(act, path[act] * mids.shape[1] + a[act])
    else:  # no gate, no cap: the pairs of a round cannot affect each other
        waves = [act]
    with np.errstate(all="ignore"):
        for w in waves:
            sub = lanes.subset(w, chain=True)
            qw = ln.restrict(q, lanes, w, sub)
            _wave(t[w], sub, qw, a[w], mids, pairs, bk, liq, ctl, path_round, room)


def _add(
    path_round: FloatArray, paths: IntArray, column: IntArray | int, x: FloatArray | float
) -> None:
    """``path_round[paths, column] += x``, repeated paths adding up (in order)."""
    flat = path_round.reshape(-1)  # a view: path_round is C-contiguous
    np.add.at(flat, paths * path_round.shape[1] + column, x)


def _count(path_round: FloatArray, paths: IntArray, column: IntArray | int) -> None:
    _add(path_round, paths, column, 1.0)


def _wave(
    t: IntArray,
    lanes: ln.Lanes,
    q: ln.Proposal,
    a: IntArray,
    mids: FloatArray,
    pairs: PairArrays,
    bk: SimArrays,
    liq: LiquidityArrays,
    ctl: RoundControl,
    path_round: FloatArray,
    room: FloatArray,
) -> None:
    """Pairs ``t`` whose first proposal ``q`` is OK (at most one per path unless they
    cannot interact): size them to profit and the cap, then liquidate."""
    path = pairs.path[t]
    p_debt = lanes.p[q.debt]
    cap = np.full(lanes.n, np.inf)
    if ctl.gate:
        received = q.seized - q.fee
        floor = q.repaid * p_debt / received
        u = by_kind(units_until, *_liquidity_of(liq, a), mids[path, a], ctl.sold[path, a], floor)
        cap = np.where(u < received, q.repaid * u / received, cap)
    capped = q.repaid * p_debt > room[path]
    cap = np.where(capped, np.minimum(cap, room[path] / p_debt), cap)
    again = cap < q.repaid
    go = np.ones(lanes.n, np.bool_)
    repaid, seized, fee = q.repaid.copy(), q.seized.copy(), q.fee.copy()
    if again.any():
        sub = np.flatnonzero(again)
        q2 = ln.propose(lanes.subset(sub), bk.ap, bk.rules, cap[sub])
        refused = (q2.status != OK) & (q2.status != NOT_LIQUIDATABLE)
        why = np.where(capped[sub][refused], lay.R_CAPPED, lay.R_UNPROFITABLE)
        _count(path_round, path[sub][refused], why)
        go[sub] = q2.status == OK
        repaid[sub], seized[sub], fee[sub] = q2.repaid, q2.seized, q2.fee
    p_coll = lanes.p[q.coll]
    if ctl.gate:
        got = by_kind(proceeds, *_liquidity_of(liq, a), p_coll, ctl.sold[path, a], seized - fee)
        loss = go & (got - repaid * p_debt - ctl.gas <= 0.0)
        _count(path_round, path[loss], np.where(capped[loss], lay.R_CAPPED, lay.R_UNPROFITABLE))
        go &= ~loss
    done = ln.Proposal(q.status, q.debt, q.coll, repaid, seized, fee, q.beta, q.dv, q.cv)
    _execute(t, go, lanes, done, path, a, p_debt, p_coll, pairs, ctl, path_round, room)


def _execute(
    t: IntArray,
    go: BoolArray,
    lanes: ln.Lanes,
    q: ln.Proposal,
    path: IntArray,
    a: IntArray,
    p_debt: FloatArray,
    p_coll: FloatArray,
    pairs: PairArrays,
    ctl: RoundControl,
    path_round: FloatArray,
    room: FloatArray,
) -> None:
    """Apply the liquidations ``go`` and book what they did."""
    if not go.any():
        return
    out = pairs.out
    g = t[go]
    out[g, lay.T_TOXIC] = np.maximum(out[g, lay.T_TOXIC], q.dv[go] * (1.0 + q.beta[go]) > q.cv[go])
    out[g, lay.T_REPAID] += q.repaid[go] * p_debt[go]
    out[g, lay.T_SEIZED] += q.seized[go] * p_coll[go]
    out[g, lay.T_FEES] += q.fee[go] * p_coll[go]
    out[g, lay.T_LIQ] += 1.0
    out[g, lay.T_WRITTEN] += ln.apply(lanes, go, q)[go]
    done = go[lanes.owner]
    pairs.es[lanes.src[done]] = lanes.s[done]
    pairs.eb[lanes.src[done]] = lanes.b[done]
    owes = lanes.per_lane((lanes.b > 0.0).astype(np.float64)) > 0.0
    pairs.live[g[~owes[go]]] = 0  # no debt left: never liquidatable again
    np.add.at(ctl.sold, (path[go], a[go]), q.seized[go] - q.fee[go])
    np.add.at(room, path[go], -q.repaid[go] * p_debt[go])
    _add(path_round, path[go], lay.R_EXECUTED, 1.0)
    _add(path_round, path[go], lay.R_SEIZED, q.seized[go] * p_coll[go])
    _add(path_round, path[go], lay.R_REPAID, q.repaid[go] * p_debt[go])


def impact(mids: FloatArray, sold: FloatArray, liq: LiquidityArrays) -> FloatArray:
    """The mid after the round's sales over the mid, for every path and asset."""
    out = np.ones_like(mids)
    p, a = np.nonzero((sold > 0.0) & (liq.kind != NO_MODEL)[None, :])
    if p.size:
        with np.errstate(all="ignore"):
            after = by_kind(mid_after, *_liquidity_of(liq, a), mids[p, a], sold[p, a])
            out[p, a] = after / mids[p, a]
    return out


def final(
    mids: FloatArray, pairs: PairArrays, bk: SimArrays, s0: FloatArray, b0: FloatArray
) -> FloatArray:
    """Per pair at the final prices (``F_*``), as ``numba_kernels.final``."""
    out = np.zeros((len(pairs.acct), lay.N_F))
    if out.shape[0] == 0:
        return out
    acct, prices = pairs.acct, mids[pairs.path]
    with np.errstate(all="ignore"):
        before = ln.sums(ln.Lanes.of(bk, acct, s0, b0, bk.indptr[acct], prices), bk.ap)
        cv, dv, ic, id_, mc, md = ln.sums(
            ln.Lanes.of(bk, acct, pairs.es, pairs.eb, pairs.off, prices), bk.ap
        )
    out[:, lay.F_RESIDUAL] = np.maximum(dv - cv, 0.0)
    out[:, lay.F_DELTA_IC] = ic - before[2]
    out[:, lay.F_DELTA_ID] = id_ - before[3]
    out[:, lay.F_LIQUIDATABLE] = is_liquidatable(mc, md)
    return out
