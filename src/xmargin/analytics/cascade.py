"""Liquidations along price paths, in rounds, against each asset's liquidity.

The engine walks a chunk of price paths step by step. At each step the oracle price of
every asset is its exogenous path price times the price impact left by earlier sales.
Then rounds follow, until a round executes nothing:

1. every account that is liquidatable at the current prices is found (a sparse product
   ``Σ wnet P`` over the accounts not yet touched on that path, and a direct check of
   the touched ones, whose balances the simulation has changed);
2. on each path, in account order, the liquidator proposes the most the rules allow
   (contract 3, :mod:`xmargin.analytics.kernels`: largest debt against largest
   collateral). In ``gate`` mode it sizes the trade so that the marginal sale price of
   the collateral it receives still covers what it repays, and acts only when
   ``proceeds - repaid - gas > 0`` (bonus minus slippage minus gas); circuit breakers
   may refuse or shrink it: a cap on the value repaid per round (as Maker's ``Hole``) and
   a pause of liquidations seizing an asset whose price fell more than ``pause_drop``
   below its highest step-start price within ``pause_window_steps``;
3. the collateral the liquidators received is sold into the liquidity in that order;
   the mid after the sales is the next round's oracle price (the price impact).

An account whose debt to collateral value ratio exceeds ``1/(1+β)`` when it is
liquidated is *toxic*: liquidating it makes the ratio worse. Bad debt on a path is the
debt written off (contract 3.7, valued when written off) plus ``Σ max(0, dv - cv)`` of
the accounts at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics._jit import njit, prange
from xmargin.analytics.kernels import (
    E_B,
    E_COL,
    E_S,
    N_E,
    N_Q,
    NOT_LIQUIDATABLE,
    OK,
    Q_BETA,
    Q_COLL,
    Q_CV,
    Q_DEBT,
    Q_DV,
    Q_FEE,
    Q_REPAID,
    Q_SEIZED,
    apply_liquidation,
    figures,
    load_entries,
    propose_liquidation,
)
from xmargin.analytics.liquidity import NO_MODEL, Liquidity, mid_after, proceeds, units_until
from xmargin.analytics.simbook import SimBook

__all__ = ["Breakers", "CascadeRecord", "PathEngine", "PathOutcome"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
G = TypeVar("G", bound=NDArray[Any])

#: Whether the cascade's kernels split paths across threads. Each call does little work
#: (one round of one step), so thread start-up and spinning cost more than they save on
#: two cores; Dask workers parallelize across chunks instead.
PARALLEL = False
#: Accounts within this relative slack of liquidation are a path's candidates; a path
#: that moves this far from its reference prices rebuilds them.
WATCH_BAND = 0.03
# Columns of the per-pair totals.
T_WRITTEN, T_REPAID, T_SEIZED, T_FEES, T_LIQ, T_TOXIC = range(6)
# Columns of a round's per-path counts.
R_EXECUTED, R_SEIZED, R_REPAID, R_UNPROFITABLE, R_CAPPED, R_PAUSED, R_STUCK = range(7)
N_ROUND = 7


@dataclass(frozen=True)
class Breakers:
    """Circuit breakers to compare (``None``: off).

    ``max_round_value``: the most debt value (quote) liquidated per round on a path.
    ``pause_drop``: pause liquidations seizing an asset whose price is more than this
    fraction below its highest step-start price over the last ``pause_window_steps``.
    """

    max_round_value: float | None = None
    pause_drop: float | None = None
    pause_window_steps: int = 12


# -- kernels ------------------------------------------------------------------------------
@njit(parallel=PARALLEL)
def _detect(
    mids: FloatArray,
    ref: FloatArray,
    fresh: NDArray[np.bool_],
    band: float,
    debtors: IntArray,
    dptr: IntArray,
    dcol: IntArray,
    dnet: FloatArray,
    cand: NDArray[np.int32],
    slack: NDArray[np.float64],
    cand_n: IntArray,
    path_ver: IntArray,
    cptr: NDArray[np.int32],
    ccol: NDArray[np.int32],
    cnet: FloatArray,
    pair_of: NDArray[np.int32],
    offsets: IntArray,
    counts: IntArray,
    out: IntArray,
    fill: bool,
    prune: bool,
) -> None:
    """Untouched accounts with ``Σ wnet P < 0`` on each path, in account order.

    Exact pruning per path: at reference prices ``ref[p]`` each debtor's margin ``m`` and
    scale ``s = Σ |wnet| P`` give ``m(P) >= m - δ s`` whenever no price moved by more
    than δ (relative) from the reference, so an account is safe while its slack ``m / s``
    exceeds the path's largest move δ. The debtors with slack below ``band`` are kept as
    the path's candidates; when the path moves by ``band`` or more (or ``fresh[p]``), the
    reference is reset and the candidates rebuilt. First call (``fill`` false) counts
    into ``counts`` (and rebuilds, counting the rebuild in ``path_ver[p]``); the second
    writes accounts to ``out`` from ``offsets[p]`` and drops them from the candidates
    (they are pairs from then on, checked by :func:`_round`). At a rebuild the candidates' rows are
    also copied, contiguous, into the path's ``ccol``/``cnet`` (from ``cptr[p, q]``), so
    that the checks read memory front to back; a path whose candidates do not fit reads
    the debtors' rows instead (``cptr[p, 0] < 0``).
    """
    n_paths, n_assets = mids.shape
    for p in prange(n_paths):
        d = 0.0
        for a in range(n_assets):
            r = abs(mids[p, a] / ref[p, a] - 1.0)
            d = max(d, r)
        if not fill and (fresh[p] or d >= band):
            for a in range(n_assets):
                ref[p, a] = mids[p, a]
            d = 0.0
            fresh[p] = False
            path_ver[p] += 1
            k = 0
            used = 0
            room = ccol.shape[1]
            for j in range(len(debtors)):
                m = 0.0
                sc = 0.0
                for e in range(dptr[j], dptr[j + 1]):
                    v = dnet[e] * mids[p, dcol[e]]
                    m += v
                    sc += abs(v)
                if m < band * sc and pair_of[p, debtors[j]] < 0:
                    cand[p, k] = j
                    slack[p, k] = m / sc if sc > 0.0 else 0.0
                    length = dptr[j + 1] - dptr[j]
                    if used >= 0 and used + length <= room:
                        cptr[p, k] = used
                        for e in range(length):
                            ccol[p, used + e] = dcol[dptr[j] + e]
                            cnet[p, used + e] = dnet[dptr[j] + e]
                        used += length
                    else:
                        used = -1
                    k += 1
            cand_n[p] = k
            if used < 0:
                cptr[p, 0] = -1
        c = 0
        compact = cand_n[p] == 0 or cptr[p, 0] >= 0
        # Candidates in account order: the rows are read front to back.
        for q in range(cand_n[p]):
            if prune and slack[p, q] > d * (1.0 + 1e-9) + 1e-12:
                continue
            j = cand[p, q]
            m = 0.0
            if compact:
                c0 = cptr[p, q]
                for e in range(c0, c0 + dptr[j + 1] - dptr[j]):
                    m += cnet[p, e] * mids[p, ccol[p, e]]
            else:
                for e in range(dptr[j], dptr[j + 1]):
                    m += dnet[e] * mids[p, dcol[e]]
            i = debtors[j]
            if m < 0.0 and pair_of[p, i] < 0:
                if fill:
                    out[offsets[p] + c] = i
                    slack[p, q] = np.inf  # a pair from now on: never a candidate again
                c += 1
        counts[p] = c


@njit(parallel=PARALLEL)
def _round(
    mids: FloatArray,
    det_ref: FloatArray,
    path_ver: IntArray,
    path_ptr: IntArray,
    path_pairs: IntArray,
    pair_live: NDArray[np.int8],
    pair_ver: IntArray,
    pair_slack: FloatArray,
    prune: bool,
    pair_acct: IntArray,
    pair_off: IntArray,
    es: FloatArray,
    eb: FloatArray,
    indptr: IntArray,
    col: IntArray,
    wts: FloatArray,
    ap: FloatArray,
    rules: FloatArray,
    max_row: int,
    lkind: IntArray,
    lk: FloatArray,
    ldx: FloatArray,
    ldv: FloatArray,
    ldn: IntArray,
    gate: bool,
    gas: float,
    cap_value: float,
    paused: BoolArray,
    sold: FloatArray,
    pair_out: FloatArray,
    path_round: FloatArray,
) -> None:
    """One round on every path (see the module docstring).

    A pair (path, account) whose slack at the path's reference prices (as in
    :func:`_detect`, from its own balances) exceeds the path's move since then cannot be
    liquidatable and is skipped; its slack is recomputed whenever its balances or the
    path's reference change (``pair_ver`` against ``path_ver``).
    """
    n_assets = mids.shape[1]
    for p in prange(mids.shape[0]):
        pr = mids[p]
        room = cap_value
        ent = np.empty((max_row, N_E))
        res = np.zeros(N_Q)
        d = 0.0
        for a in range(n_assets):
            d = max(d, abs(pr[a] / det_ref[p, a] - 1.0))
        for q in range(path_ptr[p], path_ptr[p + 1]):
            t = path_pairs[q]
            if pair_live[t] == 0:
                continue
            if prune and pair_ver[t] == path_ver[p] and pair_slack[t] > d * (1.0 + 1e-9) + 1e-12:
                continue
            i = pair_acct[t]
            lo = indptr[i]
            off = pair_off[t]
            n = load_entries(ent, lo, indptr[i + 1], col, wts, es, eb, off)
            # The most the rules allow, then (second pass) what profit and the round's
            # cap allow; one call site, so that the inlined rules are compiled once.
            amount_cap = math.inf
            capped = False
            refused = -1
            for attempt in range(2):
                status = propose_liquidation(n, ent, ap, pr, rules, amount_cap, res)
                if status == NOT_LIQUIDATABLE:
                    if pair_ver[t] != path_ver[p]:
                        pair_slack[t] = _slack(n, ent, ap, det_ref[p])
                        pair_ver[t] = path_ver[p]
                    refused = R_EXECUTED  # nothing to do, nothing to count
                    break
                if status != OK:
                    refused = R_STUCK if attempt == 0 else R_CAPPED if capped else R_UNPROFITABLE
                    break
                if attempt == 1:
                    break
                a = int(ent[int(res[Q_COLL]), E_COL])
                if paused[p, a]:
                    refused = R_PAUSED
                    break
                repaid = res[Q_REPAID]
                p_debt = pr[int(ent[int(res[Q_DEBT]), E_COL])]
                if gate:
                    received = res[Q_SEIZED] - res[Q_FEE]
                    floor = repaid * p_debt / received
                    u = units_until(
                        lkind[a], lk[a], ldx[a], ldv[a], ldn[a], pr[a], sold[p, a], floor
                    )
                    if u < received:
                        amount_cap = repaid * u / received
                if repaid * p_debt > room:
                    amount_cap = min(amount_cap, room / p_debt)
                    capped = True
                if not amount_cap < repaid:
                    break
            if refused == R_EXECUTED:
                continue
            if refused >= 0:
                path_round[p, refused] += 1.0
                continue
            a = int(ent[int(res[Q_COLL]), E_COL])
            p_coll = pr[a]
            p_debt = pr[int(ent[int(res[Q_DEBT]), E_COL])]
            repaid = res[Q_REPAID]
            seized = res[Q_SEIZED]
            received = seized - res[Q_FEE]
            if gate:
                got = proceeds(
                    lkind[a], lk[a], ldx[a], ldv[a], ldn[a], p_coll, sold[p, a], received
                )
                if got - repaid * p_debt - gas <= 0.0:
                    path_round[p, R_CAPPED if capped else R_UNPROFITABLE] += 1.0
                    continue
            if res[Q_DV] * (1.0 + res[Q_BETA]) > res[Q_CV]:
                pair_out[t, T_TOXIC] = 1.0
            pair_out[t, T_REPAID] += repaid * p_debt
            pair_out[t, T_SEIZED] += seized * p_coll
            pair_out[t, T_FEES] += res[Q_FEE] * p_coll
            pair_out[t, T_LIQ] += 1.0
            pair_out[t, T_WRITTEN] += apply_liquidation(n, ent, pr, res)
            owes = False
            for e in range(n):
                es[off + e] = ent[e, E_S]
                eb[off + e] = ent[e, E_B]
                owes = owes or ent[e, E_B] > 0.0
            if not owes:
                pair_live[t] = 0  # no debt left: never liquidatable again
            pair_slack[t] = _slack(n, ent, ap, det_ref[p])
            pair_ver[t] = path_ver[p]
            sold[p, a] += received
            room -= repaid * p_debt
            path_round[p, R_EXECUTED] += 1.0
            path_round[p, R_SEIZED] += seized * p_coll
            path_round[p, R_REPAID] += repaid * p_debt


@njit(inline=True)
def _slack(n: int, ent: FloatArray, ap: FloatArray, ref: FloatArray) -> float:
    """``(mc - md) / (mc + md)`` at ``ref``: how far prices may move before liquidation."""
    _, _, _, _, mc, md = figures(n, ent, ap, ref)
    sc = mc + md
    return (mc - md) / sc if sc > 0.0 else 0.0


@njit(inline=True)
def _impact(
    mids: FloatArray,
    sold: FloatArray,
    lkind: IntArray,
    lk: FloatArray,
    ldx: FloatArray,
    ldv: FloatArray,
    ldn: IntArray,
    out: FloatArray,
) -> None:
    """``out = mid after the round's sales / mid`` for every path and asset."""
    for p in range(mids.shape[0]):
        for a in range(mids.shape[1]):
            if sold[p, a] > 0.0 and lkind[a] != NO_MODEL:
                m = mids[p, a]
                out[p, a] = mid_after(lkind[a], lk[a], ldx[a], ldv[a], ldn[a], m, sold[p, a]) / m
            else:
                out[p, a] = 1.0


@njit(parallel=PARALLEL)
def _final(
    mids: FloatArray,
    pair_path: IntArray,
    pair_acct: IntArray,
    pair_off: IntArray,
    es: FloatArray,
    eb: FloatArray,
    indptr: IntArray,
    col: IntArray,
    s0: FloatArray,
    b0: FloatArray,
    wts: FloatArray,
    ap: FloatArray,
    max_row: int,
    out: FloatArray,
) -> None:
    """Per pair at the final prices: residual deficit, ic/id after minus before, and
    whether it is still liquidatable."""
    n_pairs = len(pair_acct)
    n_blocks = (n_pairs + 255) // 256
    for blk in prange(n_blocks):
        ent = np.empty((max_row, N_E))
        for t in range(blk * 256, min(n_pairs, (blk + 1) * 256)):
            i = pair_acct[t]
            lo = indptr[i]
            hi = indptr[i + 1]
            off = pair_off[t]
            pr = mids[pair_path[t]]
            n = load_entries(ent, lo, hi, col, wts, s0, b0, lo)
            _, _, ic0, id0, _, _ = figures(n, ent, ap, pr)
            n = load_entries(ent, lo, hi, col, wts, es, eb, off)
            cv, dv, ic, id_, mc, md = figures(n, ent, ap, pr)
            out[t, 0] = dv - cv if dv > cv else 0.0
            out[t, 1] = ic - ic0
            out[t, 2] = id_ - id0
            out[t, 3] = 1.0 if (md > 0.0 and mc < md) else 0.0


# -- orchestration ------------------------------------------------------------------------
@dataclass
class CascadeRecord:
    """Round by round, for a recorded run: step, oracle prices, and what was done."""

    step: list[int] = field(default_factory=list)
    prices: list[FloatArray] = field(default_factory=list)  # (paths, assets) per round
    executed: list[FloatArray] = field(default_factory=list)  # per path
    seized_value: list[FloatArray] = field(default_factory=list)
    repaid_value: list[FloatArray] = field(default_factory=list)
    #: balances of every entry of the book on path 0 at the end
    final_s: FloatArray | None = None
    final_b: FloatArray | None = None


@dataclass(frozen=True)
class PathOutcome:
    """Totals per path of a chunk, and per pair (path, account) that was ever liquidatable.

    Per path (quote unless a count): ``bad_debt = written_off + residual``, the values
    repaid, seized and paid in protocol fees; counts of liquidations, of liquidated and
    toxic accounts, of liquidation attempts refused (unprofitable, capped by the round
    cap, paused), of accounts still liquidatable at the end, and of rounds that executed
    something; the sums of initial collateral and initial debt at the end
    (``borrowing_power``, ``borrowed``); and the final prices.
    """

    bad_debt: FloatArray
    written_off: FloatArray
    residual: FloatArray
    repaid: FloatArray
    seized: FloatArray
    fees: FloatArray
    liquidations: FloatArray
    accounts_liquidated: FloatArray
    toxic_accounts: FloatArray
    unprofitable: FloatArray
    capped: FloatArray
    paused: FloatArray
    still_liquidatable: FloatArray
    rounds: FloatArray
    borrowing_power: FloatArray
    borrowed: FloatArray
    final_prices: FloatArray
    pair_path: IntArray
    pair_acct: IntArray
    pair_bad: FloatArray
    pair_toxic: FloatArray
    pair_seized: FloatArray


class PathEngine:
    """Runs a chunk of paths through rounds of liquidations (see the module docstring).

    Parameters
    ----------
    book
        The book (already settled at today's prices if the caller wants that).
    liquidity
        Where seized collateral is sold; ``None`` or no model: at mid, no impact.
    gate
        Liquidators act only when profitable (bonus - slippage - gas > 0).
    gas
        Quote a liquidator pays per liquidation.
    impact_half_life_steps
        Price impact decays toward 1 with this half-life in steps (``None``: permanent).
    """

    def __init__(
        self,
        book: SimBook,
        liquidity: Liquidity | None = None,
        gate: bool = False,
        gas: float = 0.0,
        breakers: Breakers | None = None,
        impact_half_life_steps: float | None = None,
        max_rounds_per_step: int = 1000,
    ) -> None:
        self.book = book
        self.liquidity = liquidity or Liquidity.none(book.assets)
        self.gate = gate
        self.gas = float(gas)
        self.breakers = breakers or Breakers()
        self.decay = (
            1.0 if impact_half_life_steps is None else 0.5 ** (1.0 / impact_half_life_steps)
        )
        self.max_rounds_per_step = max_rounds_per_step
        #: exact pruning of the liquidatable check (off only to test that it is exact)
        self.prune = True
        self.band = WATCH_BAND

    def run(self, exo: FloatArray, record: bool = False) -> tuple[PathOutcome, CascadeRecord]:
        """Run ``exo`` (paths x steps x assets, prices in quote) through the rounds."""
        bk = self.book
        liq = self.liquidity
        n_paths, n_steps, n_assets = exo.shape
        n_acc = bk.n_accounts
        pair_of = np.full((n_paths, n_acc), -1, dtype=np.int32)
        cap = 1024
        pair_path = np.empty(cap, np.int64)
        pair_acct = np.empty(cap, np.int64)
        pair_off = np.empty(cap, np.int64)
        pair_out = np.zeros((cap, 6))
        ecap = 1024 * max(1, bk.max_row)
        es = np.empty(ecap)
        eb = np.empty(ecap)
        n_pairs = 0
        n_ent = 0
        impact = np.ones((n_paths, n_assets))
        # Candidates per path (see _detect): accounts within WATCH_BAND of liquidation.
        debtors = np.flatnonzero(bk.debtors).astype(np.int64)
        dptr, dent = bk.rows_of(debtors)
        dcol, dnet = bk.col[dent], bk.wnet[dent]
        det_ref = exo[:, 0, :].copy()
        fresh = np.ones(n_paths, np.bool_)
        cand = np.empty((n_paths, max(1, len(debtors))), np.int32)
        slack = np.empty((n_paths, max(1, len(debtors))))
        cand_n = np.zeros(n_paths, np.int64)
        # Room for the candidates' rows per path: a quarter of all debtor entries (at
        # least 8,192), beyond which a path falls back to the shared rows.
        room = max(1, min(len(dnet), max(8192, len(dnet) // 4)))
        cptr = np.zeros((n_paths, max(1, len(debtors))), np.int32)
        ccol = np.empty((n_paths, room), np.int32)
        cnet = np.empty((n_paths, room))
        path_ver = np.zeros(n_paths, np.int64)
        pair_live = np.ones(cap, np.int8)
        pair_ver = np.full(cap, -1, np.int64)
        pair_slack = np.zeros(cap)
        path_tot = np.zeros((n_paths, N_ROUND))
        rounds = np.zeros(n_paths)
        rec = CascadeRecord()
        window = max(1, self.breakers.pause_window_steps)
        ring = np.repeat(bk.price[None, None, :], window, axis=0).repeat(n_paths, axis=1)
        cap_value = (
            math.inf if self.breakers.max_round_value is None else self.breakers.max_round_value
        )
        drop = self.breakers.pause_drop
        rules = bk.rules
        args_liq = (liq.kind, liq.k, liq.depth_x, liq.depth_v, liq.depth_n)
        path_ptr = np.zeros(n_paths + 1, np.int64)
        path_pairs = np.empty(0, np.int64)
        for step in range(n_steps):
            if self.decay != 1.0:
                impact = impact**self.decay
            mids = exo[:, step, :] * impact
            pause_ref = ring.max(axis=0)
            ring[step % window] = mids
            if record and step == 0:
                rec.step.append(-1)
                rec.prices.append(np.repeat(bk.price[None, :], n_paths, axis=0))
                for lst in (rec.executed, rec.seized_value, rec.repaid_value):
                    lst.append(np.zeros(n_paths))
            moved = True
            for _ in range(self.max_rounds_per_step):
                if moved:
                    counts = np.zeros(n_paths, np.int64)
                    offsets = np.zeros(n_paths + 1, np.int64)
                    det = (
                        det_ref,
                        fresh,
                        self.band,
                        debtors,
                        dptr,
                        dcol,
                        dnet,
                        cand,
                        slack,
                        cand_n,
                        path_ver,
                        cptr,
                        ccol,
                        cnet,
                    )
                    _detect(mids, *det, pair_of, offsets, counts, offsets, False, self.prune)
                    total = int(counts.sum())
                    if total:
                        np.cumsum(counts, out=offsets[1:])
                        new_acct = np.empty(total, np.int64)
                        _detect(mids, *det, pair_of, offsets, counts, new_acct, True, self.prune)
                        new_path = np.repeat(np.arange(n_paths, dtype=np.int64), counts)
                        lens = bk.indptr[new_acct + 1] - bk.indptr[new_acct]
                        need_p = n_pairs + total
                        need_e = n_ent + int(lens.sum())
                        if need_p > cap:
                            cap = max(need_p, 2 * cap)
                            pair_path = _grow(pair_path, cap)
                            pair_acct = _grow(pair_acct, cap)
                            pair_off = _grow(pair_off, cap)
                            pair_out = _grow2(pair_out, cap)
                            pair_live = _grow(pair_live, cap)
                            pair_ver = _grow(pair_ver, cap)
                            pair_slack = _grow(pair_slack, cap)
                        if need_e > ecap:
                            ecap = max(need_e, 2 * ecap)
                            es = _grow(es, ecap)
                            eb = _grow(eb, ecap)
                        sl = slice(n_pairs, need_p)
                        pair_path[sl] = new_path
                        pair_acct[sl] = new_acct
                        offs = n_ent + np.concatenate(([0], np.cumsum(lens)[:-1]))
                        pair_off[sl] = offs
                        pair_out[sl] = 0.0
                        pair_live[sl] = 1
                        pair_ver[sl] = -1
                        src = _ranges(bk.indptr[new_acct], lens)
                        es[n_ent:need_e] = bk.s[src]
                        eb[n_ent:need_e] = bk.b[src]
                        pair_of[new_path, new_acct] = np.arange(n_pairs, need_p, dtype=np.int32)
                        n_pairs, n_ent = need_p, need_e
                        order = np.argsort(pair_path[:n_pairs], kind="stable")
                        path_pairs = order.astype(np.int64)
                        np.cumsum(
                            np.bincount(pair_path[:n_pairs], minlength=n_paths), out=path_ptr[1:]
                        )
                if n_pairs == 0:
                    break
                paused = (
                    mids < (1.0 - drop) * pause_ref
                    if drop is not None
                    else np.zeros((n_paths, n_assets), np.bool_)
                )
                sold = np.zeros((n_paths, n_assets))
                this = np.zeros((n_paths, N_ROUND))
                _round(
                    mids,
                    det_ref,
                    path_ver,
                    path_ptr,
                    path_pairs,
                    pair_live,
                    pair_ver,
                    pair_slack,
                    self.prune,
                    pair_acct,
                    pair_off,
                    es,
                    eb,
                    bk.indptr,
                    bk.col,
                    bk.wts,
                    bk.ap,
                    rules,
                    max(1, bk.max_row),
                    *args_liq,
                    self.gate,
                    self.gas,
                    cap_value,
                    paused,
                    sold,
                    pair_out,
                    this,
                )
                executed = this[:, R_EXECUTED]
                path_tot += this
                if not executed.any():
                    break
                rounds += executed > 0
                if record:
                    rec.step.append(step)
                    rec.executed.append(executed.copy())
                    rec.seized_value.append(this[:, R_SEIZED].copy())
                    rec.repaid_value.append(this[:, R_REPAID].copy())
                moved = False
                if liq.any:
                    factor = np.empty_like(mids)
                    _impact(mids, sold, *args_liq, factor)
                    if (factor != 1.0).any():
                        impact *= factor
                        mids = mids * factor
                        moved = True
                if record:
                    rec.prices.append(mids.copy())
            if record and (not rec.step or rec.step[-1] != step):
                rec.step.append(step)
                rec.prices.append(mids.copy())
                for lst in (rec.executed, rec.seized_value, rec.repaid_value):
                    lst.append(np.zeros(n_paths))
        final = exo[:, -1, :] * impact
        fin = np.zeros((n_pairs, 4))
        if n_pairs:
            _final(
                final,
                pair_path[:n_pairs],
                pair_acct[:n_pairs],
                pair_off[:n_pairs],
                es,
                eb,
                bk.indptr,
                bk.col,
                bk.s,
                bk.b,
                bk.wts,
                bk.ap,
                max(1, bk.max_row),
                fin,
            )
        pp = pair_path[:n_pairs]
        po = pair_out[:n_pairs]
        if record:
            fs = bk.s.copy()
            fb = bk.b.copy()
            for t in np.flatnonzero(pp == 0):
                i = int(pair_acct[t])
                lo_e, hi_e = int(bk.indptr[i]), int(bk.indptr[i + 1])
                off = int(pair_off[t])
                fs[lo_e:hi_e] = es[off : off + hi_e - lo_e]
                fb[lo_e:hi_e] = eb[off : off + hi_e - lo_e]
            rec.final_s, rec.final_b = fs, fb

        def per_path(x: FloatArray) -> FloatArray:
            return np.asarray(np.bincount(pp, weights=x, minlength=n_paths), np.float64)

        written = per_path(po[:, T_WRITTEN])
        residual = per_path(fin[:, 0])
        ic_by_asset = np.bincount(bk.col, weights=bk.wic, minlength=n_assets)
        id_by_asset = np.bincount(bk.col, weights=bk.wid, minlength=n_assets)
        outcome = PathOutcome(
            bad_debt=written + residual,
            written_off=written,
            residual=residual,
            repaid=per_path(po[:, T_REPAID]),
            seized=per_path(po[:, T_SEIZED]),
            fees=per_path(po[:, T_FEES]),
            liquidations=per_path(po[:, T_LIQ]),
            accounts_liquidated=per_path((po[:, T_LIQ] > 0).astype(np.float64)),
            toxic_accounts=per_path(po[:, T_TOXIC]),
            unprofitable=path_tot[:, R_UNPROFITABLE],
            capped=path_tot[:, R_CAPPED],
            paused=path_tot[:, R_PAUSED],
            still_liquidatable=per_path(fin[:, 3]),
            rounds=rounds,
            borrowing_power=final @ ic_by_asset + per_path(fin[:, 1]),
            borrowed=final @ id_by_asset + per_path(fin[:, 2]),
            final_prices=final,
            pair_path=pp.copy(),
            pair_acct=pair_acct[:n_pairs].copy(),
            pair_bad=po[:, T_WRITTEN] + fin[:, 0],
            pair_toxic=po[:, T_TOXIC].copy(),
            pair_seized=po[:, T_SEIZED].copy(),
        )
        return outcome, rec


def _grow(a: G, n: int) -> G:
    out = np.empty(n, dtype=a.dtype)
    out[: len(a)] = a
    return cast(G, out)


def _grow2(a: FloatArray, n: int) -> FloatArray:
    out = np.zeros((n, a.shape[1]), dtype=a.dtype)
    out[: len(a)] = a
    return out


def _ranges(starts: IntArray, lens: IntArray) -> IntArray:
    """Concatenated ``arange(start, start + len)`` for each pair of the arguments."""
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, np.int64)
    ends = np.cumsum(lens)
    out = np.ones(total, np.int64)
    out[0] = starts[0]
    nz = lens > 0
    st = starts[nz]
    en = ends[nz]
    ln = lens[nz]
    out[en[:-1]] = st[1:] - (st[:-1] + ln[:-1] - 1)
    out[0] = st[0]
    res: IntArray = np.cumsum(out)
    return res
