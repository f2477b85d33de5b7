"""The simulation kernels behind one interface: Numba loops, or NumPy lanes.

Which backend runs is the package's one policy (:mod:`xmargin.fast.backend`): Numba
where it is installed, else NumPy with one warning (``XMARGIN_BACKEND=numpy`` forces
it). Both call the same float rules; the NumPy kernels
(:mod:`xmargin.analytics.lanes`) run whole columns instead of one account at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics import kernel_layout as kl
from xmargin.analytics.kernel_layout import FloatArray, IntArray, SimArrays, WatchRows
from xmargin.fast.backend import per_backend

__all__ = ["SimKernels", "sim_kernels"]

BoolArray = NDArray[np.bool_]
#: Paths whose margins the NumPy one-step kernel computes at once (bounds its memory).
_PATHS_AT_ONCE = 64


class SimKernels:
    """One backend's simulation kernels (settle a book, one step on many paths)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._nb: Any = None
        if name == "numba":
            from xmargin.analytics import book_kernels

            self._nb = book_kernels

    def watch_mask(
        self,
        indptr: IntArray,
        col: IntArray,
        wnet: FloatArray,
        debtors: BoolArray,
        lo: FloatArray,
        hi: FloatArray,
    ) -> BoolArray:
        """Accounts that may be liquidatable at some prices within ``[lo, hi]`` per asset
        (an exact pruning: ``Σ wnet P`` is smallest with collateral at ``lo``, debt at
        ``hi``; kept where it is below 1e-9 of ``Σ |wnet| hi``)."""
        out = np.empty(len(indptr) - 1, np.bool_)
        if self._nb is not None:
            self._nb.watch_mask(indptr, col, wnet, debtors, lo, hi, out)
            return out
        owner = np.repeat(np.arange(len(out), dtype=np.int64), np.diff(indptr))
        bound = np.bincount(owner, np.where(wnet > 0.0, wnet * lo[col], wnet * hi[col]), len(out))
        scale = np.bincount(owner, np.abs(wnet) * hi[col], len(out))
        out[:] = debtors & (bound < 1e-9 * scale)
        return out

    def settle(
        self, bk: SimArrays, s: FloatArray, b: FloatArray, prices: FloatArray, max_rounds: int
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Liquidate every account at ``prices`` until done: (supply after, borrow after,
        per account ``AC_*`` columns)."""
        n = len(bk.indptr) - 1
        s, b = s.copy(), b.copy()
        out = np.zeros((n, kl.N_ACCT_OUT))
        if self._nb is not None:
            self._nb.liquidate_book(prices, bk, s, b, max_rounds, out)
            return s, b, out
        from xmargin.analytics import lanes as ln

        every = np.arange(n, dtype=np.int64)
        lanes = ln.Lanes.of(
            bk, every, s, b, bk.indptr[:-1], np.broadcast_to(prices, (n, len(prices)))
        )
        o, status = ln.until_done(lanes, bk.ap, bk.rules, max_rounds)
        cv, dv = ln.sums(lanes, bk.ap)[:2]
        s[lanes.src] = lanes.s
        b[lanes.src] = lanes.b
        pairs = [
            (kl.AC_WRITTEN_OFF, kl.O_WRITTEN),
            (kl.AC_REPAID, kl.O_REPAID),
            (kl.AC_SEIZED, kl.O_SEIZED),
            (kl.AC_FEES, kl.O_FEES),
            (kl.AC_LIQUIDATIONS, kl.O_LIQ),
            (kl.AC_TOXIC, kl.O_TOXIC),
        ]
        for dst, src in pairs:
            out[:, dst] = o[:, src]
        out[:, kl.AC_RESIDUAL] = np.maximum(dv - cv, 0.0)
        out[:, kl.AC_STATUS] = status
        return s, b, out

    def one_step(
        self,
        prices: FloatArray,
        watch: WatchRows,
        bk: SimArrays,
        s0: FloatArray,
        b0: FloatArray,
        block: int,
        max_rounds: int,
    ) -> tuple[FloatArray, FloatArray]:
        """Every path's liquidations at its prices (rows of ``prices``), each watch account
        on its own: (per path ``P_*`` columns, per watch account its bad debt)."""
        n_paths = prices.shape[0]
        out_path = np.zeros((n_paths, kl.N_PATH_OUT))
        if self._nb is not None:
            n_blocks = (n_paths + block - 1) // block
            out_acct = np.zeros((n_blocks, len(watch.accounts)))
            self._nb.one_step_paths(
                prices, watch, bk, s0, b0, block, max_rounds, out_path, out_acct
            )
            acct: FloatArray = out_acct.sum(axis=0)
            return out_path, acct
        return _one_step_numpy(prices, watch, bk, s0, b0, max_rounds, out_path)


def _one_step_numpy(
    prices: FloatArray,
    watch: WatchRows,
    bk: SimArrays,
    s0: FloatArray,
    b0: FloatArray,
    max_rounds: int,
    out_path: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """:meth:`SimKernels.one_step` on NumPy lanes: one lane per (account, path) whose
    ``Σ wnet P`` is below zero, accounts outer and paths inner (the kernel's order)."""
    from xmargin.analytics import lanes as ln

    n_paths, n_watch = prices.shape[0], len(watch.accounts)
    if n_watch == 0:
        return out_path, np.zeros(0)
    neg = np.zeros((n_watch, n_paths), np.bool_)
    starts = watch.ptr[:-1]
    for p0 in range(0, n_paths, _PATHS_AT_ONCE):
        terms = prices[p0 : p0 + _PATHS_AT_ONCE, watch.col] * watch.wnet
        neg[:, p0 : p0 + _PATHS_AT_ONCE] = (np.add.reduceat(terms, starts, axis=1) < 0.0).T
    w_of, p_of = np.nonzero(neg)
    acc = watch.accounts[w_of]
    at = bk.indptr[acc]
    lanes = ln.Lanes.of(bk, acc, s0, b0, at, prices[p_of])
    with np.errstate(all="ignore"):
        _, _, ic0, id0, _, _ = ln.sums(lanes, bk.ap)
        o, status = ln.until_done(lanes, bk.ap, bk.rules, max_rounds)
        cv1, dv1, ic1, id1, _, _ = ln.sums(lanes, bk.ap)
    residual = np.maximum(dv1 - cv1, 0.0)
    bad = o[:, kl.O_WRITTEN] + residual
    columns = {
        kl.P_BAD_DEBT: bad,
        kl.P_WRITTEN_OFF: o[:, kl.O_WRITTEN],
        kl.P_RESIDUAL: residual,
        kl.P_REPAID: o[:, kl.O_REPAID],
        kl.P_SEIZED: o[:, kl.O_SEIZED],
        kl.P_FEES: o[:, kl.O_FEES],
        kl.P_LIQUIDATIONS: o[:, kl.O_LIQ],
        kl.P_ACCOUNTS: (o[:, kl.O_LIQ] > 0.0).astype(np.float64),
        kl.P_TOXIC: o[:, kl.O_TOXIC],
        kl.P_STUCK: (status != kl.NOT_LIQUIDATABLE).astype(np.float64),
        kl.P_DELTA_IC: ic1 - ic0,
        kl.P_DELTA_ID: id1 - id0,
    }
    for k, v in columns.items():
        out_path[:, k] = np.bincount(p_of, weights=v, minlength=n_paths)
    acct: FloatArray = np.bincount(w_of, weights=bad, minlength=n_watch).astype(np.float64)
    return out_path, acct


#: The kernels of a backend (``auto``: the package's policy, :mod:`xmargin.fast.backend`).
sim_kernels = per_backend(SimKernels)
