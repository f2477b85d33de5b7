"""The cascade's Numba kernels: detection, one round of liquidations, impact, the end.

Imported only once the backend resolved to Numba (:mod:`xmargin.fast.backend`); the
NumPy twins are in :mod:`.numpy_kernels`. See :mod:`xmargin.analytics.cascade.engine`
for what a round does.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange
from numpy.typing import NDArray

from xmargin.analytics import kernel_layout as kl
from xmargin.analytics.cascade.layout import (
    F_DELTA_IC,
    F_DELTA_ID,
    F_LIQUIDATABLE,
    F_RESIDUAL,
    R_CAPPED,
    R_EXECUTED,
    R_PAUSED,
    R_REPAID,
    R_SEIZED,
    R_STUCK,
    R_UNPROFITABLE,
    T_FEES,
    T_LIQ,
    T_REPAID,
    T_SEIZED,
    T_TOXIC,
    T_WRITTEN,
    DetectState,
    FloatArray,
    IntArray,
    PairArrays,
    RoundControl,
)
from xmargin.analytics.kernel_layout import SimArrays
from xmargin.analytics.liquidator import (
    account_sums,
    apply_liquidation,
    load_entries,
    propose_liquidation,
)
from xmargin.analytics.liquidity import NO_MODEL, LiquidityArrays, mid_after, proceeds, units_until
from xmargin.fast.backend import jit
from xmargin.fast.health import is_liquidatable

__all__ = ["detect", "final", "impact", "one_round"]

#: Whether the cascade's kernels split paths across threads. Each call does little work
#: (one round of one step), so thread start-up and spinning cost more than they save (on
#: two cores, 73 s against 4.4 s in one loaded measurement); the engine runs groups of
#: paths on threads instead (the kernels release the GIL), and Dask workers parallelize
#: across chunks.
PARALLEL = False


@jit(parallel=PARALLEL)
def detect(
    mids: FloatArray,
    st: DetectState,
    band: float,
    prune: bool,
    pair_of: NDArray[np.int32],
    paths: IntArray,
    counts: IntArray,
) -> IntArray:
    """Untouched accounts with ``Σ wnet P < 0`` on each of ``paths``, in account order:
    ``counts[p]`` per path, the accounts returned path by path (one pass: each path
    writes its own row of ``st.found``, then the rows are gathered).

    Exact pruning per path: at reference prices ``st.ref[p]`` each debtor's margin ``m``
    and scale ``s = Σ |wnet| P`` give ``m(P) >= m - δ s`` whenever no price moved by more
    than δ (relative) from the reference, so an account is safe while its slack ``m / s``
    exceeds the path's largest move δ. The debtors with slack below ``band`` are kept as
    the path's candidates; when the path moves by ``band`` or more (or ``st.fresh[p]``),
    the reference is reset and the candidates rebuilt (counted in ``st.path_ver[p]``).
    An account found is dropped from the candidates (a pair from then on, checked by
    :func:`one_round`). At a rebuild the candidates' rows are also copied, contiguous,
    into the path's ``ccol``/``cnet`` (from ``cptr[p, q]``), so that the checks read
    memory front to back; a path whose candidates do not fit reads the debtors' rows
    instead (``cptr[p, 0] < 0``).
    """
    n_paths, n_assets = mids.shape
    # Fields read once: an array read through the tuple inside a loop costs reference counts.
    ref, cand, slack, cand_n, cptr = st.ref, st.cand, st.slack, st.cand_n, st.cptr
    dptr, dcol, dnet, ccol, cnet = st.dptr, st.dcol, st.dnet, st.ccol, st.cnet
    fresh, path_ver, debtors, found = st.fresh, st.path_ver, st.debtors, st.found
    for ip in prange(len(paths)):
        p = paths[ip]
        d = 0.0
        for a in range(n_assets):
            r = abs(mids[p, a] / ref[p, a] - 1.0)
            d = max(d, r)
        if fresh[p] or d >= band:
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
                found[p, c] = i
                slack[p, q] = np.inf  # a pair from now on: never a candidate again
                c += 1
        counts[p] = c
    total = 0
    for k in range(len(paths)):
        total += counts[paths[k]]
    out = np.empty(total, np.int64)
    c = 0
    for p in range(n_paths):  # path order, whatever the order of ``paths``
        for q in range(counts[p]):
            out[c] = found[p, q]
            c += 1
    return out


@jit(inline=True)
def _slack(n: int, ent: FloatArray, ap: FloatArray, ref: FloatArray) -> float:
    """``(mc - md) / (mc + md)`` at ``ref``: how far prices may move before liquidation."""
    _, _, _, _, mc, md = account_sums(n, ent, ap, ref)
    sc = mc + md
    return (mc - md) / sc if sc > 0.0 else 0.0


@jit(parallel=PARALLEL)
def one_round(
    mids: FloatArray,
    st: DetectState,
    pr_: PairArrays,
    bk: SimArrays,
    liq: LiquidityArrays,
    ctl: RoundControl,
    path_round: FloatArray,
) -> None:
    """One round on every path (see the engine's docstring): the most the rules allow,
    then (second pass) what profit and the round's cap allow, for each pair in order.

    A pair whose slack at the path's reference prices (as in :func:`detect`, from its own
    balances) exceeds the path's move since then cannot be liquidatable and is skipped;
    its slack is recomputed whenever its balances or the path's reference change (the
    pair's ``ver`` against the path's ``st.path_ver``).
    """
    n_assets = mids.shape[1]
    # Fields read once: an array read through the tuple inside a loop costs reference counts.
    indptr, col, wts, ap, rules, max_row = bk
    kind, lk, ldx, ldv, ltail = liq
    path_ptr, order, _, acct, offs, live, ver, pslack, es, eb, pout = pr_
    gate, gas, cap_value, prune, paused, sold, _ = ctl
    ref, path_ver, active = st.ref, st.path_ver, ctl.active
    for ip in prange(len(active)):
        p = active[ip]
        pr = mids[p]
        room = cap_value
        ent = np.empty((max_row, kl.N_E))
        res = np.zeros(kl.N_Q)
        d = 0.0
        for a in range(n_assets):
            d = max(d, abs(pr[a] / ref[p, a] - 1.0))
        for q in range(path_ptr[p], path_ptr[p + 1]):
            t = order[q]
            if live[t] == 0:
                continue
            fresh = ver[t] == path_ver[p]
            if prune and fresh and pslack[t] > d * (1.0 + 1e-9) + 1e-12:
                continue
            i = acct[t]
            off = offs[t]
            n = load_entries(ent, indptr[i], indptr[i + 1], col, wts, es, eb, off)
            # The most the rules allow, then (second pass) what profit and the round's
            # cap allow; one call site, so that the inlined rules are compiled once.
            amount_cap = math.inf
            capped = False
            refused = -1
            for attempt in range(2):
                status = propose_liquidation(n, ent, ap, pr, rules, amount_cap, res)
                if status == kl.NOT_LIQUIDATABLE:
                    if not fresh:
                        pslack[t] = _slack(n, ent, ap, ref[p])
                        ver[t] = path_ver[p]
                    refused = R_EXECUTED  # nothing to do, nothing to count
                    break
                if status != kl.OK:
                    refused = R_STUCK if attempt == 0 else R_CAPPED if capped else R_UNPROFITABLE
                    break
                if attempt == 1:
                    break
                a = int(ent[int(res[kl.Q_COLL]), kl.E_COL])
                if paused[p, a]:
                    refused = R_PAUSED
                    break
                repaid = res[kl.Q_REPAID]
                p_debt = pr[int(ent[int(res[kl.Q_DEBT]), kl.E_COL])]
                if gate:
                    received = res[kl.Q_SEIZED] - res[kl.Q_FEE]
                    floor = repaid * p_debt / received
                    u = units_until(
                        kind[a], lk[a], ldx[a], ldv[a], ltail[a], pr[a], sold[p, a], floor
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
            a = int(ent[int(res[kl.Q_COLL]), kl.E_COL])
            p_coll = pr[a]
            p_debt = pr[int(ent[int(res[kl.Q_DEBT]), kl.E_COL])]
            repaid = res[kl.Q_REPAID]
            seized = res[kl.Q_SEIZED]
            received = seized - res[kl.Q_FEE]
            if gate:
                got = proceeds(
                    kind[a], lk[a], ldx[a], ldv[a], ltail[a], p_coll, sold[p, a], received
                )
                if got - repaid * p_debt - gas <= 0.0:
                    path_round[p, R_CAPPED if capped else R_UNPROFITABLE] += 1.0
                    continue
            if res[kl.Q_DV] * (1.0 + res[kl.Q_BETA]) > res[kl.Q_CV]:
                pout[t, T_TOXIC] = 1.0
            pout[t, T_REPAID] += repaid * p_debt
            pout[t, T_SEIZED] += seized * p_coll
            pout[t, T_FEES] += res[kl.Q_FEE] * p_coll
            pout[t, T_LIQ] += 1.0
            pout[t, T_WRITTEN] += apply_liquidation(n, ent, pr, res)
            owes = False
            for e in range(n):
                es[off + e] = ent[e, kl.E_S]
                eb[off + e] = ent[e, kl.E_B]
                owes = owes or ent[e, kl.E_B] > 0.0
            if not owes:
                live[t] = 0  # no debt left: never liquidatable again
            pslack[t] = _slack(n, ent, ap, ref[p])
            ver[t] = path_ver[p]
            sold[p, a] += received
            room -= repaid * p_debt
            path_round[p, R_EXECUTED] += 1.0
            path_round[p, R_SEIZED] += seized * p_coll
            path_round[p, R_REPAID] += repaid * p_debt


@jit()
def impact(mids: FloatArray, sold: FloatArray, liq: LiquidityArrays, out: FloatArray) -> None:
    """``out = mid after the round's sales / mid`` for every path and asset."""
    kind, lk, ldx, ldv, ltail = liq
    for p in range(mids.shape[0]):
        for a in range(mids.shape[1]):
            if sold[p, a] > 0.0 and kind[a] != NO_MODEL:
                m = mids[p, a]
                after = mid_after(kind[a], lk[a], ldx[a], ldv[a], ltail[a], m, sold[p, a])
                out[p, a] = after / m
            else:
                out[p, a] = 1.0


@jit(parallel=PARALLEL)
def final(
    mids: FloatArray,
    pr_: PairArrays,
    bk: SimArrays,
    s0: FloatArray,
    b0: FloatArray,
    out: FloatArray,
) -> None:
    """Per pair at the final prices (``F_*``): residual deficit, ic/id after minus before,
    and whether it is still liquidatable."""
    indptr, col, wts, ap, _, max_row = bk
    paths, acct, offs, es, eb = pr_.path, pr_.acct, pr_.off, pr_.es, pr_.eb
    n_pairs = len(acct)
    n_blocks = (n_pairs + 255) // 256
    for blk in prange(n_blocks):
        ent = np.empty((max_row, kl.N_E))
        for t in range(blk * 256, min(n_pairs, (blk + 1) * 256)):
            i = acct[t]
            lo = indptr[i]
            hi = indptr[i + 1]
            pr = mids[paths[t]]
            n = load_entries(ent, lo, hi, col, wts, s0, b0, lo)
            _, _, ic0, id0, _, _ = account_sums(n, ent, ap, pr)
            n = load_entries(ent, lo, hi, col, wts, es, eb, offs[t])
            cv, dv, ic, id_, mc, md = account_sums(n, ent, ap, pr)
            out[t, F_RESIDUAL] = dv - cv if dv > cv else 0.0
            out[t, F_DELTA_IC] = ic - ic0
            out[t, F_DELTA_ID] = id_ - id0
            out[t, F_LIQUIDATABLE] = 1.0 if is_liquidatable(mc, md) else 0.0
