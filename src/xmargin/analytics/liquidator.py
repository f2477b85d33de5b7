"""The float liquidation engine for one account, as Numba kernels (contract section 3).

Each step calls its float rule (:mod:`xmargin.fast.liquidation`, the twins of
:mod:`xmargin.risk.liquidation`) in the exact engine's order; amounts are float64,
without rounding to asset decimals. The kernels work on a scratch copy of one account,
``ent`` (entries x ``E_*`` columns of :mod:`xmargin.analytics.kernel_layout`). Few,
packed arrays: every array a Numba function receives costs two atomic reference-count
operations per call, which with a dozen separate columns cost more than the arithmetic.

The liquidator's choice, when an account is liquidatable: repay its largest debt (by
value) against its largest collateral with an effective liquidation threshold > 0, the
most the rules allow ("max"); repeat until the account is no longer liquidatable, holds
no collateral (the rest is written off, 3.7) or a rule refuses (dust, 3.6). The NumPy
twin of this module is :mod:`xmargin.analytics.lanes`.
"""

from __future__ import annotations

import math

from xmargin.analytics.kernel_layout import (
    A_BW,
    A_FEE,
    A_KSZ,
    A_MBW,
    E_B,
    E_BONUS,
    E_CF,
    E_COL,
    E_LT,
    E_S,
    NOT_LIQUIDATABLE,
    O_FEES,
    O_LIQ,
    O_REPAID,
    O_SEIZED,
    O_TOXIC,
    O_WRITTEN,
    OK,
    Q_BETA,
    Q_COLL,
    Q_CV,
    Q_DEBT,
    Q_DV,
    Q_FEE,
    Q_REPAID,
    Q_SEIZED,
    Q_STATUS,
    STUCK_DUST,
    STUCK_NO_COLLATERAL,
    STUCK_ZERO,
    W_BONUS,
    W_CF,
    W_LT,
    FloatArray,
    IntArray,
)
from xmargin.fast.backend import jit
from xmargin.fast.health import NO_SUMS, add_sums, is_liquidatable, weighted_sums
from xmargin.fast.liquidation import (
    has_collateral,
    leaves_dust,
    liquidation_bonus,
    max_repayable,
    protocol_fee,
    seize,
)
from xmargin.fast.packing import (
    R_CLOSE_FACTOR,
    R_FULL_HEALTH,
    R_MAX_BONUS,
    R_MIN_LEFTOVER,
    R_POLICY,
    R_SMALL_VALUE,
)
from xmargin.fast.weights import effective_weights

__all__ = [
    "account_sums",
    "apply_liquidation",
    "liquidate_until_done",
    "load_entries",
    "propose_liquidation",
]


@jit(inline=True)
def account_sums(
    n: int, ent: FloatArray, ap: FloatArray, p: FloatArray
) -> tuple[float, float, float, float, float, float]:
    """(cv, dv, ic, id, mc, md) of contract 2 over the first ``n`` entries, in quote."""
    sums = NO_SUMS
    for e in range(n):
        a = int(ent[e, E_COL])
        s = ent[e, E_S]
        b = ent[e, E_B]
        cf = ent[e, E_CF]
        lt = ent[e, E_LT]
        bw = ap[a, A_BW]
        mbw = ap[a, A_MBW]
        k = ap[a, A_KSZ]
        if k > 0.0:  # k = 0 leaves every weight as it is (contract 1.2)
            cf, lt, bw, mbw = effective_weights(s, b, cf, lt, bw, mbw, k)
        sums = add_sums(sums, weighted_sums(s, b, p[a], cf, lt, bw, mbw))
    return sums


@jit(inline=True)
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
    cv, dv, _, _, mc, md = account_sums(n, ent, ap, p)
    d_e = -1
    c_e = -1
    best_d = -1.0
    best_c = -1.0
    for e in range(n):
        v = ent[e, E_S] * p[int(ent[e, E_COL])]
        if has_collateral(ent[e, E_S], ent[e, E_LT]) and v > best_c:
            best_c = v
            c_e = e
        v = ent[e, E_B] * p[int(ent[e, E_COL])]
        if ent[e, E_B] > 0.0 and v > best_d:
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
    if not is_liquidatable(mc, md):
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
            # 6. dust.
            if leaves_dust(mlv, repaid, d, seized, c, p_debt, p_coll):
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


@jit(inline=True)
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
        covered = covered or has_collateral(ent[e, E_S], ent[e, E_LT])
        owes = owes or ent[e, E_B] > 0.0
    written = 0.0
    if owes and not covered:
        for e in range(n):
            if ent[e, E_B] > 0.0:
                written += ent[e, E_B] * p[int(ent[e, E_COL])]
                ent[e, E_B] = 0.0
    return written


@jit(inline=True)
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


@jit(inline=True)
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
    """Copy book entries ``lo:hi`` into ``ent``, balances from ``s``/``b`` at ``at:``.

    ``wts`` holds (cf, lt, bonus) per book entry. Returns the number of entries.
    """
    n = hi - lo
    for e in range(n):
        ent[e, E_COL] = col[lo + e]
        ent[e, E_S] = s[at + e]
        ent[e, E_B] = b[at + e]
        ent[e, E_CF] = wts[lo + e, W_CF]
        ent[e, E_LT] = wts[lo + e, W_LT]
        ent[e, E_BONUS] = wts[lo + e, W_BONUS]
    return n
