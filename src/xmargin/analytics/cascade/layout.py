"""How the cascade's kernels lay out their state: packed arguments and columns.

Shared by the Numba kernels (:mod:`.numba_kernels`) and the NumPy ones
(:mod:`.numpy_kernels`). Each kernel takes a few packed tuples instead of dozens of
positional arrays: the book (:class:`~xmargin.analytics.kernel_layout.SimArrays`), the
liquidity (:class:`~xmargin.analytics.liquidity.LiquidityArrays`), the pairs
(:class:`PairArrays`), the round's controls (:class:`RoundControl`) and, for the Numba
detection, its candidate state (:class:`DetectState`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["DetectState", "PairArrays", "RoundControl"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Accounts within this relative slack of liquidation are a path's candidates; a path
#: that moves this far from its reference prices rebuilds them.
WATCH_BAND = 0.03
# Columns of the per-pair totals (values in quote).
T_WRITTEN, T_REPAID, T_SEIZED, T_FEES, T_LIQ, T_TOXIC = range(6)
N_T = 6
# Columns of a round's per-path counts.
R_EXECUTED, R_SEIZED, R_REPAID, R_UNPROFITABLE, R_CAPPED, R_PAUSED, R_STUCK = range(7)
N_ROUND = 7
# Columns of the per-pair figures at the end.
F_RESIDUAL, F_DELTA_IC, F_DELTA_ID, F_LIQUIDATABLE = range(4)
N_F = 4


class PairArrays(NamedTuple):
    """The pairs (path, account) found liquidatable so far, as the kernels read them.

    ``path_ptr``/``order``: the pairs of path ``p`` are ``order[path_ptr[p]:path_ptr[p+1]]``,
    in the order they were found; per pair its ``path``, account (``acct``), where its
    balances start in ``es``/``eb`` (``off``), whether it still owes (``live``), its totals
    (``out``, ``T_*``) and, for the Numba rounds' pruning, its ``slack`` at the path's
    reference prices and the reference version it was computed at (``ver``).
    """

    path_ptr: IntArray
    order: IntArray
    path: IntArray
    acct: IntArray
    off: IntArray
    live: NDArray[np.int8]
    ver: IntArray
    slack: FloatArray
    es: FloatArray
    eb: FloatArray
    out: FloatArray


class RoundControl(NamedTuple):
    """What a round allows: ``gate`` (liquidators act only when profitable, paying
    ``gas``), ``cap_value`` (most debt value per round per path), ``paused`` (paths x
    assets whose liquidations pause), ``prune`` (skip pairs that cannot be liquidatable);
    ``sold`` (paths x assets) collects the units sold in the round; ``active`` lists the
    paths whose round runs (the others executed nothing last round and did not move, so
    a round would do nothing again)."""

    gate: bool
    gas: float
    cap_value: float
    prune: bool
    paused: BoolArray
    sold: FloatArray
    active: IntArray


class DetectState(NamedTuple):
    """The Numba detection's candidates per path (see ``numba_kernels.detect``)."""

    ref: FloatArray
    fresh: BoolArray
    debtors: IntArray
    dptr: IntArray
    dcol: IntArray
    dnet: FloatArray
    cand: NDArray[np.int32]
    slack: FloatArray
    cand_n: IntArray
    path_ver: IntArray
    cptr: NDArray[np.int32]
    ccol: NDArray[np.int32]
    cnet: FloatArray
    found: NDArray[np.int32]
