"""How the simulation kernels lay out their arrays: columns, status codes, packed arguments.

Shared by the Numba kernels (:mod:`xmargin.analytics.liquidator`,
:mod:`xmargin.analytics.book_kernels`, :mod:`xmargin.analytics.cascade`) and the NumPy
ones (:mod:`xmargin.analytics.lanes`), so that both read and write the same columns.

A book's accounts are CSR rows over entries (one per asset an account holds); per entry
``wts`` holds (cf, lt, bonus) after the category rule and before the size haircut, per
asset ``ap`` holds (size factor, borrow weight, maintenance borrow weight, protocol fee),
and ``rules`` the market's rules (:meth:`xmargin.fast.packing.MarketRules.vector`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "A_BW",
    "A_FEE",
    "A_KSZ",
    "A_MBW",
    "NOT_LIQUIDATABLE",
    "OK",
    "STUCK_DUST",
    "STUCK_NO_COLLATERAL",
    "STUCK_ZERO",
    "W_BONUS",
    "W_CF",
    "W_LT",
    "SimArrays",
    "WatchRows",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Per entry (``wts``): weights after the category rule, before the size haircut.
W_CF, W_LT, W_BONUS = range(3)
# Per asset (``ap``).
A_KSZ, A_BW, A_MBW, A_FEE = range(4)
N_A = 4
# An account's scratch entries in the Numba engine (``ent``, entries x N_E).
E_COL, E_S, E_B, E_CF, E_LT, E_BONUS = range(6)
N_E = 6
# What a liquidation proposal found.
OK, NOT_LIQUIDATABLE, STUCK_NO_COLLATERAL, STUCK_DUST, STUCK_ZERO = range(5)
# A proposal (``res``).
Q_STATUS, Q_DEBT, Q_COLL, Q_REPAID, Q_SEIZED, Q_FEE, Q_BETA, Q_DV, Q_CV = range(9)
N_Q = 9
# An account's totals while it is liquidated until done (values in quote).
O_WRITTEN, O_REPAID, O_SEIZED, O_FEES, O_LIQ, O_TOXIC = range(6)
N_O = 6
# Per account of a settled book (``settle``): the totals, the deficit left, the status.
AC_WRITTEN_OFF, AC_REPAID, AC_SEIZED, AC_FEES, AC_LIQUIDATIONS, AC_TOXIC = range(6)
AC_RESIDUAL, AC_STATUS = 6, 7
N_ACCT_OUT = 8
# Per path of a one-step run.
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


class SimArrays(NamedTuple):
    """A book's static arrays, packed as one kernel argument (balances travel apart)."""

    indptr: IntArray
    col: IntArray
    wts: FloatArray
    ap: FloatArray
    rules: FloatArray
    max_row: int


class WatchRows(NamedTuple):
    """Some accounts' rows, gathered contiguous: ``accounts``, their CSR ``ptr`` over the
    gathered entries, and per entry its asset ``col`` and net maintenance weight ``wnet``."""

    accounts: IntArray
    ptr: IntArray
    col: IntArray
    wnet: FloatArray
