"""The tick's Numba kernel: a screened re-price of a short list of rows.

A one-asset tick re-prices the few holders its drift reaches (:mod:`xmargin.book.near_rows`),
scattered over the book: on one thread (waking the pool costs more than the work), row
by row, with exactly the sums, screening test and decisions of
:func:`xmargin.book._numba_kernels.reprice_general` in its screened mode.
"""

from __future__ import annotations

from xmargin.book._numba_kernels import _fast_xy, _record, _slow_xy
from xmargin.book.tolerances import SLOW_ROW
from xmargin.fast.backend import jit


@jit()
def reprice_rows(  # type: ignore[no-untyped-def]
    rows, indptr, codes, units, tab, hp, hw, hk, warn, status, margin, drift,
    out_rows, out_prev, out_recheck,
):  # fmt: skip
    """Screened re-price of ``rows`` (sorted); returns how many it listed in ``out_*``."""
    m = 0
    for i in range(rows.size):
        r = rows[i]
        if drift < margin[r]:  # cannot have crossed a level since the reference
            continue
        lo = indptr[r]
        if status[r] & SLOW_ROW:
            x, y = _slow_xy(lo, indptr[r + 1], codes, units, tab, hp, hw, hk)
        else:
            x, y = _fast_xy(lo, indptr[r + 1] - lo, codes, units, tab)
        m += _record(r, x, y, warn, status, out_rows, out_prev, out_recheck, m)
    return m
