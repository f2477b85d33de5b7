"""Numba kernels over a whole simulation book: settle it, run one step on many paths.

Each drives the per-account engine of :mod:`xmargin.analytics.liquidator` over many
accounts (and paths); their NumPy twins are in :mod:`xmargin.analytics.lanes`. The
book's static arrays travel packed as one :class:`~xmargin.analytics.kernel_layout.SimArrays`.
"""

from __future__ import annotations

import numpy as np
from numba import prange
from numpy.typing import NDArray

from xmargin.analytics import kernel_layout as kl
from xmargin.analytics.kernel_layout import FloatArray, IntArray, SimArrays, WatchRows
from xmargin.analytics.liquidator import account_sums, liquidate_until_done, load_entries
from xmargin.fast.backend import jit

__all__ = ["liquidate_book", "one_step_paths", "watch_mask"]

#: Whether the book-wide kernels split their loop across threads.
PARALLEL = False


@jit(parallel=PARALLEL)
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


@jit(parallel=PARALLEL)
def liquidate_book(
    prices: FloatArray,
    bk: SimArrays,
    s: FloatArray,
    b: FloatArray,
    max_rounds: int,
    out: FloatArray,
) -> None:
    """Liquidate every account at ``prices`` until done; ``s``/``b`` are updated in place.

    ``out[i]`` (columns ``AC_*``, values in quote): what was done to account ``i``, its
    deficit ``max(0, dv - cv)`` left afterwards, and the last status.
    """
    indptr, col, wts, ap, rules, max_row = bk  # read once: no reference counts per loop
    n_acc = len(indptr) - 1
    n_blocks = (n_acc + 1023) // 1024
    for blk in prange(n_blocks):
        ent = np.empty((max_row, kl.N_E))
        res = np.zeros(kl.N_Q)
        o = np.zeros(kl.N_O)
        for i in range(blk * 1024, min(n_acc, (blk + 1) * 1024)):
            lo = indptr[i]
            hi = indptr[i + 1]
            n = load_entries(ent, lo, hi, col, wts, s, b, lo)
            o[:] = 0.0
            status = liquidate_until_done(n, ent, ap, prices, rules, res, o, max_rounds)
            cv, dv, _, _, _, _ = account_sums(n, ent, ap, prices)
            for e in range(n):
                s[lo + e] = ent[e, kl.E_S]
                b[lo + e] = ent[e, kl.E_B]
            out[i, kl.AC_WRITTEN_OFF] = o[kl.O_WRITTEN]
            out[i, kl.AC_REPAID] = o[kl.O_REPAID]
            out[i, kl.AC_SEIZED] = o[kl.O_SEIZED]
            out[i, kl.AC_FEES] = o[kl.O_FEES]
            out[i, kl.AC_LIQUIDATIONS] = o[kl.O_LIQ]
            out[i, kl.AC_TOXIC] = o[kl.O_TOXIC]
            out[i, kl.AC_RESIDUAL] = dv - cv if dv > cv else 0.0
            out[i, kl.AC_STATUS] = float(status)


@jit()
def _one_step_block(
    blk: int,
    prices: FloatArray,
    watch: WatchRows,
    bk: SimArrays,
    s0: FloatArray,
    b0: FloatArray,
    block: int,
    max_rounds: int,
    out_path: FloatArray,
    out_acct: FloatArray,
) -> None:
    """Block ``blk`` of :func:`one_step_paths`: one task, run serially."""
    n_paths = prices.shape[0]
    indptr, col, wts, ap, rules, max_row = bk  # read once: no reference counts per loop
    ent = np.empty((max_row, kl.N_E))
    res = np.zeros(kl.N_Q)
    o = np.zeros(kl.N_O)
    first = blk * block
    stop = min(n_paths, first + block)
    accounts, wptr, wcol, wnet = watch
    for w in range(len(accounts)):
        i = accounts[w]
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
            _, _, ic0, id0, _, _ = account_sums(n, ent, ap, pr)
            o[:] = 0.0
            status = liquidate_until_done(n, ent, ap, pr, rules, res, o, max_rounds)
            cv1, dv1, ic1, id1, _, _ = account_sums(n, ent, ap, pr)
            residual = dv1 - cv1 if dv1 > cv1 else 0.0
            bad = o[kl.O_WRITTEN] + residual
            out_path[p, kl.P_BAD_DEBT] += bad
            out_path[p, kl.P_WRITTEN_OFF] += o[kl.O_WRITTEN]
            out_path[p, kl.P_RESIDUAL] += residual
            out_path[p, kl.P_REPAID] += o[kl.O_REPAID]
            out_path[p, kl.P_SEIZED] += o[kl.O_SEIZED]
            out_path[p, kl.P_FEES] += o[kl.O_FEES]
            out_path[p, kl.P_LIQUIDATIONS] += o[kl.O_LIQ]
            out_path[p, kl.P_ACCOUNTS] += 1.0 if o[kl.O_LIQ] > 0.0 else 0.0
            out_path[p, kl.P_TOXIC] += o[kl.O_TOXIC]
            out_path[p, kl.P_STUCK] += 0.0 if status == kl.NOT_LIQUIDATABLE else 1.0
            out_path[p, kl.P_DELTA_IC] += ic1 - ic0
            out_path[p, kl.P_DELTA_ID] += id1 - id0
            out_acct[blk, w] += bad


@jit(parallel=True)
def one_step_paths(
    prices: FloatArray,
    watch: WatchRows,
    bk: SimArrays,
    s0: FloatArray,
    b0: FloatArray,
    block: int,
    max_rounds: int,
    out_path: FloatArray,
    out_acct: FloatArray,
) -> None:
    """Every path's liquidations at its prices, each account on its own (contract 3).

    For each watch account whose ``Σ wnet P`` is below zero on path ``p`` (row of
    ``prices``): liquidate until done, add its totals to ``out_path[p]`` (columns
    ``P_*``) and its bad debt to ``out_acct[block of p, w]``. ``watch`` holds the watch
    accounts' rows, gathered contiguous. Paths run in blocks of ``block``, one block per
    task (threads take blocks), accounts outer and the block's paths inner, so that an
    account's entries stay in registers and the block's prices in L1; every sum is taken
    in the same order however many threads run.
    """
    n_blocks = (prices.shape[0] + block - 1) // block
    for blk in prange(n_blocks):
        _one_step_block(blk, prices, watch, bk, s0, b0, block, max_rounds, out_path, out_acct)
