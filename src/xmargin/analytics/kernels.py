"""Float64 kernels of contract section 3, for one account on one price path at a time.

Each function mirrors one step of the exact engine (:mod:`xmargin.risk.liquidation`), with
the same names and symbols, in float64 and without rounding to asset decimals (amounts
differ from the exact engine by at most one unit at the asset's decimals).

The kernels work on a scratch copy of one account, ``ent`` (entries x ``E_*`` columns):
the asset of each entry, its supply and borrow units, and its weights after the category
rule (contract 1.2) and before the size haircut. Per-asset parameters are ``ap`` (assets
x ``A_*`` columns) and the market rules ``rules`` (``R_*``). Few, packed arrays: every
array a Numba function receives costs two atomic reference-count operations per call,
which with a dozen separate columns cost more than the arithmetic.

The liquidator's choice, when an account is liquidatable: repay its largest debt (by
value) against its largest collateral with an effective liquidation threshold > 0, the
most the rules allow ("max"); repeat until the account is no longer liquidatable, holds
no collateral (the rest is written off, 3.7) or a rule refuses (dust, 3.6).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics._jit import njit, prange

__all__ = [
    "FIXED",
    "HEALTH",
    "NOT_LIQUIDATABLE",
    "OK",
    "STUCK_DUST",
    "STUCK_NO_COLLATERAL",
    "STUCK_ZERO",
    "THRESHOLD",
    "apply_liquidation",
    "figures",
    "liquidate_book",
    "liquidate_until_done",
    "one_step_paths",
    "propose_liquidation",
    "size_haircut_asset_weight",
    "size_haircut_liability_weight",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Bonus policies (contract 3.3).
FIXED, THRESHOLD, HEALTH = 0, 1, 2
# Columns of the rules vector.
R_CLOSE_FACTOR, R_FULL_HEALTH, R_SMALL_VALUE, R_MIN_LEFTOVER, R_POLICY, R_MAX_BONUS = range(6)
# Columns of an account's scratch entries E.
E_COL, E_S, E_B, E_CF, E_LT, E_BONUS = range(6)
N_E = 6
# Columns of the per-asset parameters A.
A_KSZ, A_BW, A_MBW, A_FEE = range(4)
N_A = 4
# What propose_liquidation found.
OK, NOT_LIQUIDATABLE, STUCK_NO_COLLATERAL, STUCK_DUST, STUCK_ZERO = range(5)
# Columns of a proposal (``res``).
Q_STATUS, Q_DEBT, Q_COLL, Q_REPAID, Q_SEIZED, Q_FEE, Q_BETA, Q_DV, Q_CV = range(9)
N_Q = 9
# Columns of an account's totals (``out``).
O_WRITTEN, O_REPAID, O_SEIZED, O_FEES, O_LIQ, O_TOXIC = range(6)
N_O = 6

#: Whether the book-wide kernels split their loop across threads (see ``_jit``).
PARALLEL = False

_SIZE_CAP = 1.1
_SIZE_LIABILITY_BASE = 0.8
_THRESHOLD_A = 0.3
_THRESHOLD_B = 0.7


@njit()
def size_haircut_asset_weight(w: float, k: float, s: float) -> float:
    """``min(w, 1.1 / (1 + k sqrt(s)))`` (contract 1.2); ``w`` when k = 0 or s = 0."""
    if k > 0.0 and s > 0.0:
        return min(w, _SIZE_CAP / (1.0 + k * math.sqrt(s)))
    return w


@njit()
def size_haircut_liability_weight(lw: float, k: float, b: float) -> float:
    """``max(lw, 0.8 lw + k sqrt(b))`` (contract 1.2); ``lw`` when k = 0 or b = 0."""
    if k > 0.0 and b > 0.0:
        return max(lw, _SIZE_LIABILITY_BASE * lw + k * math.sqrt(b))
    return lw


@njit(inline=True)
def figures(
    n: int, ent: FloatArray, ap: FloatArray, p: FloatArray
) -> tuple[float, float, float, float, float, float]:
    """(cv, dv, ic, id, mc, md) of contract 2 over the first ``n`` entries, in quote."""
    cv = dv = ic = id_ = mc = md = 0.0
    for e in range(n):
        a = int(ent[e, E_COL])
        k = ap[a, A_KSZ]
        s = ent[e, E_S]
        b = ent[e, E_B]
        if s > 0.0:
            v = s * p[a]
            cv += v
            ic += v * size_haircut_asset_weight(ent[e, E_CF], k, s)
            mc += v * size_haircut_asset_weight(ent[e, E_LT], k, s)
        if b > 0.0:
            v = b * p[a]
            dv += v
            id_ += v * size_haircut_liability_weight(ap[a, A_BW], k, b)
            md += v * size_haircut_liability_weight(ap[a, A_MBW], k, b)
    return cv, dv, ic, id_, mc, md


@njit()
def max_repayable(
    close_factor: float,
    full_health: float,
    small_value: float,
    hf: float,
    d: float,
    c: float,
    total_debt_value: float,
    p_debt: float,
    p_coll: float,
) -> float:
    """Units of the debt asset that may be repaid now (contract 3.2)."""
    if hf <= full_health or d * p_debt < small_value or c * p_coll < small_value:
        return d
    return min(d, close_factor * total_debt_value / p_debt)


@njit()
def liquidation_bonus(policy: int, max_bonus: float, bonus: float, lt: float, hf: float) -> float:
    """β under the market's bonus policy (contract 3.3); ``lt`` before any size haircut."""
    if policy == FIXED:
        return bonus
    if policy == THRESHOLD:
        return min(max_bonus, 1.0 / (_THRESHOLD_A * lt + _THRESHOLD_B) - 1.0)
    return 1.0 / max(hf, 1.0 - max_bonus) - 1.0


@njit()
def seize(
    repaid: float, p_debt: float, p_coll: float, beta: float, c: float
) -> tuple[float, float]:
    """(seized, repaid): ``seized = repaid p_debt (1+β) / p_coll``, capped at ``c`` (3.4)."""
    raw = repaid * p_debt * (1.0 + beta) / p_coll
    if raw > c:
        return c, min(repaid, c * p_coll / (p_debt * (1.0 + beta)))
    return raw, repaid


@njit()
def protocol_fee(seized: float, beta: float, fee: float) -> float:
    """``(seized - seized / (1+β)) fee``, in collateral units (contract 3.5)."""
    return min(seized, (seized - seized / (1.0 + beta)) * fee)


@njit(inline=True)
def propose_liquidation(
    n: int,
    ent: FloatArray,
    ap: FloatArray,
    p: FloatArray,
    rules: FloatArray,
    amount_cap: float,
    res: FloatArray,
) -> int:
    """One liquidation as the liquidator would ask for it, into ``res`` (``Q_*``).

    ``amount_cap`` (debt units) bounds the amount asked for (``inf``: "max"). Returns
    the status: ``OK`` or why nothing can be done. Nothing is changed.
    """
    cv = dv = mc = md = 0.0
    d_e = -1
    c_e = -1
    best_d = -1.0
    best_c = -1.0
    for e in range(n):
        a = int(ent[e, E_COL])
        k = ap[a, A_KSZ]
        s = ent[e, E_S]
        b = ent[e, E_B]
        if s > 0.0:
            v = s * p[a]
            cv += v
            mc += v * size_haircut_asset_weight(ent[e, E_LT], k, s)
            if ent[e, E_LT] > 0.0 and v > best_c:
                best_c = v
                c_e = e
        if b > 0.0:
            v = b * p[a]
            dv += v
            md += v * size_haircut_liability_weight(ap[a, A_MBW], k, b)
            if v > best_d:
                best_d = v
                d_e = e
    # Every array read happens here, before any branch: Numba then needs no reference
    # counting in this function (reads under branches cost atomic operations).
    de = max(d_e, 0)
    ce = max(c_e, 0)
    d = ent[de, E_B]
    c = ent[ce, E_S]
    a_coll = int(ent[ce, E_COL])
    p_debt = p[int(ent[de, E_COL])]
    p_coll = p[a_coll]
    bonus_c = ent[ce, E_BONUS]
    lt_c = ent[ce, E_LT]
    fee_rate = ap[a_coll, A_FEE]
    close_factor = rules[R_CLOSE_FACTOR]
    full_health = rules[R_FULL_HEALTH]
    small_value = rules[R_SMALL_VALUE]
    mlv = rules[R_MIN_LEFTOVER]
    policy = int(rules[R_POLICY])
    max_bonus = rules[R_MAX_BONUS]
    status = OK
    repaid = seized = fee_units = beta = 0.0
    # 1. liquidatable, owes debt, holds collateral with an effective lt > 0.
    if not (md > 0.0 and mc < md):
        status = NOT_LIQUIDATABLE
    elif c_e < 0:
        status = STUCK_NO_COLLATERAL
    else:
        hf = mc / md
        # 2. how much may be repaid.
        limit = max_repayable(close_factor, full_health, small_value, hf, d, c, dv, p_debt, p_coll)
        repaid = min(limit, amount_cap)
        # 3-5. bonus, seizure, protocol fee.
        beta = liquidation_bonus(policy, max_bonus, bonus_c, lt_c, hf)
        seized, repaid = seize(repaid, p_debt, p_coll, beta, c)
        if not (repaid > 0.0 and seized > 0.0):
            status = STUCK_ZERO
        else:
            fee_units = protocol_fee(seized, beta, fee_rate)
            # 6. dust: a liquidation that clears neither side must leave both worth
            # at least min_leftover_value.
            partial = mlv > 0.0 and repaid < d and seized < c
            if partial and ((d - repaid) * p_debt < mlv or (c - seized) * p_coll < mlv):
                status = STUCK_DUST
    res[Q_STATUS] = status
    res[Q_DEBT] = d_e
    res[Q_COLL] = c_e
    res[Q_REPAID] = repaid
    res[Q_SEIZED] = seized
    res[Q_FEE] = fee_units
    res[Q_BETA] = beta
    res[Q_DV] = dv
    res[Q_CV] = cv
    return status


@njit(inline=True)
def apply_liquidation(n: int, ent: FloatArray, p: FloatArray, res: FloatArray) -> float:
    """Apply a proposal; returns the quote value written off as bad debt (3.7)."""
    d_e = int(res[Q_DEBT])
    c_e = int(res[Q_COLL])
    repaid = res[Q_REPAID]
    seized = res[Q_SEIZED]
    ent[d_e, E_B] = ent[d_e, E_B] - repaid if repaid < ent[d_e, E_B] else 0.0
    ent[c_e, E_S] = ent[c_e, E_S] - seized if seized < ent[c_e, E_S] else 0.0
    # 7. no collateral left and debt still owed: every remaining borrow is written off.
    owes = False
    covered = False
    for e in range(n):
        if ent[e, E_S] > 0.0 and ent[e, E_LT] > 0.0:
            covered = True
        if ent[e, E_B] > 0.0:
            owes = True
    written = 0.0
    if owes and not covered:
        for e in range(n):
            if ent[e, E_B] > 0.0:
                written += ent[e, E_B] * p[int(ent[e, E_COL])]
                ent[e, E_B] = 0.0
    return written


@njit(inline=True)
def liquidate_until_done(
    n: int,
    ent: FloatArray,
    ap: FloatArray,
    p: FloatArray,
    rules: FloatArray,
    res: FloatArray,
    out: FloatArray,
    max_rounds: int,
) -> int:
    """Liquidate "max" until nothing more can be done; totals added to ``out`` (``O_*``).

    ``out``: written off, repaid, seized and protocol-fee values (quote), liquidations, and
    1 if the account was toxic (dv/cv > 1/(1+β)) before a liquidation. Returns the last
    status (``OK`` only if ``max_rounds`` ran out).
    """
    status = NOT_LIQUIDATABLE
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        status = propose_liquidation(n, ent, ap, p, rules, math.inf, res)
        p_coll = p[int(ent[int(res[Q_COLL]), E_COL])]
        p_debt = p[int(ent[int(res[Q_DEBT]), E_COL])]
        if status != OK:
            break
        toxic = 1.0 if res[Q_DV] * (1.0 + res[Q_BETA]) > res[Q_CV] else 0.0
        out[O_TOXIC] = max(out[O_TOXIC], toxic)
        out[O_REPAID] += res[Q_REPAID] * p_debt
        out[O_SEIZED] += res[Q_SEIZED] * p_coll
        out[O_FEES] += res[Q_FEE] * p_coll
        out[O_LIQ] += 1.0
        out[O_WRITTEN] += apply_liquidation(n, ent, p, res)
    return status


@njit(inline=True)
def load_entries(
    ent: FloatArray,
    lo: int,
    hi: int,
    col: IntArray,
    wts: FloatArray,
    s: FloatArray,
    b: FloatArray,
    at: int,
) -> int:
    """Copy book entries ``lo:hi`` into ``E``, balances from ``s``/``b`` at ``at:``.

    ``wts`` holds (cf, lt, bonus) per book entry. Returns the number of entries.
    """
    n = hi - lo
    for e in range(n):
        ent[e, E_COL] = col[lo + e]
        ent[e, E_S] = s[at + e]
        ent[e, E_B] = b[at + e]
        ent[e, E_CF] = wts[lo + e, 0]
        ent[e, E_LT] = wts[lo + e, 1]
        ent[e, E_BONUS] = wts[lo + e, 2]
    return n


@njit(parallel=PARALLEL)
def watch_mask(
    indptr: IntArray,
    col: IntArray,
    wnet: FloatArray,
    debtor: NDArray[np.bool_],
    lo: FloatArray,
    hi: FloatArray,
    out: NDArray[np.bool_],
) -> None:
    """``out[i]``: account ``i`` may be liquidatable for some prices in ``[lo, hi]``.

    ``Σ wnet P`` is smallest with every collateral at ``lo`` and every debt at ``hi``; an
    account whose smallest margin is still >= 0 (with a relative safety margin of 1e-9
    for rounding) is left out: an exact pruning, not an estimate.
    """
    for i in prange(len(indptr) - 1):
        bound = 0.0
        scale = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            w = wnet[e]
            a = col[e]
            bound += w * lo[a] if w > 0.0 else w * hi[a]
            scale += abs(w) * hi[a]
        out[i] = debtor[i] and bound < 1e-9 * scale


# -- one step over many paths ---------------------------------------------------------------
#: Columns of the per-path output of :func:`one_step_paths`.
(
    P_BAD_DEBT,
    P_WRITTEN_OFF,
    P_RESIDUAL,
    P_REPAID,
    P_SEIZED,
    P_FEES,
    P_LIQUIDATIONS,
    P_ACCOUNTS,
    P_TOXIC,
    P_STUCK,
    P_DELTA_IC,
    P_DELTA_ID,
) = range(12)
N_PATH_OUT = 12


@njit()
def _one_step_block(
    blk: int,
    prices: FloatArray,
    watch: IntArray,
    wptr: IntArray,
    wcol: IntArray,
    wnet: FloatArray,
    indptr: IntArray,
    col: IntArray,
    s0: FloatArray,
    b0: FloatArray,
    wts: FloatArray,
    ap: FloatArray,
    rules: FloatArray,
    max_row: int,
    block: int,
    max_rounds: int,
    out_path: FloatArray,
    out_acct: FloatArray,
) -> None:
    """Block ``blk`` of :func:`one_step_paths`: one task, run serially."""
    n_paths = prices.shape[0]
    ent = np.empty((max_row, N_E))
    res = np.zeros(N_Q)
    o = np.zeros(N_O)
    first = blk * block
    stop = min(n_paths, first + block)
    for w in range(len(watch)):
        i = watch[w]
        lo = indptr[i]
        hi = indptr[i + 1]
        wlo = wptr[w]
        whi = wptr[w + 1]
        for p in range(first, stop):
            m = 0.0
            for e in range(wlo, whi):
                m += wnet[e] * prices[p, wcol[e]]
            if m >= 0.0:
                continue
            pr = prices[p]
            n = load_entries(ent, lo, hi, col, wts, s0, b0, lo)
            _, _, ic0, id0, _, _ = figures(n, ent, ap, pr)
            o[:] = 0.0
            status = liquidate_until_done(n, ent, ap, pr, rules, res, o, max_rounds)
            cv1, dv1, ic1, id1, _, _ = figures(n, ent, ap, pr)
            residual = dv1 - cv1 if dv1 > cv1 else 0.0
            bad = o[O_WRITTEN] + residual
            out_path[p, P_BAD_DEBT] += bad
            out_path[p, P_WRITTEN_OFF] += o[O_WRITTEN]
            out_path[p, P_RESIDUAL] += residual
            out_path[p, P_REPAID] += o[O_REPAID]
            out_path[p, P_SEIZED] += o[O_SEIZED]
            out_path[p, P_FEES] += o[O_FEES]
            out_path[p, P_LIQUIDATIONS] += o[O_LIQ]
            out_path[p, P_ACCOUNTS] += 1.0 if o[O_LIQ] > 0.0 else 0.0
            out_path[p, P_TOXIC] += o[O_TOXIC]
            out_path[p, P_STUCK] += 0.0 if status == NOT_LIQUIDATABLE else 1.0
            out_path[p, P_DELTA_IC] += ic1 - ic0
            out_path[p, P_DELTA_ID] += id1 - id0
            out_acct[blk, w] += bad


@njit(parallel=True)
def one_step_paths(
    prices: FloatArray,
    watch: IntArray,
    wptr: IntArray,
    wcol: IntArray,
    wnet: FloatArray,
    indptr: IntArray,
    col: IntArray,
    s0: FloatArray,
    b0: FloatArray,
    wts: FloatArray,
    ap: FloatArray,
    rules: FloatArray,
    max_row: int,
    block: int,
    max_rounds: int,
    out_path: FloatArray,
    out_acct: FloatArray,
) -> None:
    """Every path's liquidations at its prices, each account on its own (contract 3).

    For each ``watch`` account whose ``Σ wnet P`` is below zero on path ``p`` (row of
    ``prices``): liquidate until done, add its totals to ``out_path[p]`` (columns
    ``P_*``) and its bad debt to ``out_acct[block of p, w]``. ``wptr``/``wcol``/``wnet``
    are the watch accounts' rows, gathered contiguous. Paths run in blocks of ``block``,
    one block per task (threads take blocks), accounts outer and the block's paths
    inner, so that an account's entries stay in registers and the block's prices in L1;
    every sum is taken in the same order however many threads run.
    """
    n_blocks = (prices.shape[0] + block - 1) // block
    for blk in prange(n_blocks):
        _one_step_block(
            blk,
            prices,
            watch,
            wptr,
            wcol,
            wnet,
            indptr,
            col,
            s0,
            b0,
            wts,
            ap,
            rules,
            max_row,
            block,
            max_rounds,
            out_path,
            out_acct,
        )


# -- one price vector, every account (settle a book, run a scenario) -------------------------
#: Columns of the per-account output of :func:`liquidate_book`.
A_WRITTEN_OFF, A_REPAID, A_SEIZED, A_FEES, A_LIQUIDATIONS, A_TOXIC, A_RESIDUAL, A_STATUS = range(8)
N_ACCT_OUT = 8


@njit(parallel=PARALLEL)
def liquidate_book(
    prices: FloatArray,
    indptr: IntArray,
    col: IntArray,
    s: FloatArray,
    b: FloatArray,
    wts: FloatArray,
    ap: FloatArray,
    rules: FloatArray,
    max_row: int,
    max_rounds: int,
    out: FloatArray,
) -> None:
    """Liquidate every account at ``prices`` until done; ``s``/``b`` are updated in place.

    ``out[i]`` (columns ``A_*``, values in quote): what was done to account ``i``, its
    deficit ``max(0, dv - cv)`` left afterwards, and the last status.
    """
    n_acc = len(indptr) - 1
    n_blocks = (n_acc + 1023) // 1024
    for blk in prange(n_blocks):
        ent = np.empty((max_row, N_E))
        res = np.zeros(N_Q)
        o = np.zeros(N_O)
        for i in range(blk * 1024, min(n_acc, (blk + 1) * 1024)):
            lo = indptr[i]
            hi = indptr[i + 1]
            n = load_entries(ent, lo, hi, col, wts, s, b, lo)
            o[:] = 0.0
            status = liquidate_until_done(n, ent, ap, prices, rules, res, o, max_rounds)
            cv, dv, _, _, _, _ = figures(n, ent, ap, prices)
            for e in range(n):
                s[lo + e] = ent[e, E_S]
                b[lo + e] = ent[e, E_B]
            out[i, A_WRITTEN_OFF] = o[O_WRITTEN]
            out[i, A_REPAID] = o[O_REPAID]
            out[i, A_SEIZED] = o[O_SEIZED]
            out[i, A_FEES] = o[O_FEES]
            out[i, A_LIQUIDATIONS] = o[O_LIQ]
            out[i, A_TOXIC] = o[O_TOXIC]
            out[i, A_RESIDUAL] = dv - cv if dv > cv else 0.0
            out[i, A_STATUS] = float(status)
