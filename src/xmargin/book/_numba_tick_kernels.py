"""The tick's Numba kernel: a screened re-price of a short list of rows.

A one-asset tick re-prices the few holders its drift reaches (:mod:`xmargin.book.near_rows`),
scattered over the book: on one thread (waking the pool costs more than the work), row
by row, with exactly the sums, screening test and decisions of
:func:`xmargin.book._numba_kernels.reprice_general` in its screened mode.
"""

from __future__ import annotations

import numpy as np

from xmargin.book._numba_kernels import _fast_xy, _record, _slow_xy
from xmargin.book.tolerances import SLOW_ROW
from xmargin.fast.backend import jit


@jit()
def reprice_rows(  # type: ignore[no-untyped-def]
    rows, indptr, codes, units, tab, hp, hw, hk, warn, status, margin, drift,
    out_rows, out_prev, out_recheck,
):  # fmt: skip
    """Screened re-price of ``rows`` (sorted); returns how many it listed in ``out_*``.

    The rows lie far apart, so nearly every read misses the cache: a first pass reads
    each row's bounds, status and margin (independent reads, which the core overlaps),
    the second sums and decides the rows the drift reaches.
    """
    n = rows.size
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    live = np.empty(n, dtype=np.int64)
    slow = np.empty(n, dtype=np.bool_)
    k = 0
    for i in range(n):
        r = rows[i]
        lo[k] = indptr[r]
        hi[k] = indptr[r + 1]
        slow[k] = (status[r] & SLOW_ROW) != 0
        live[k] = r
        k += not (drift < margin[r])  # else: cannot have crossed a level since the reference
    m = 0
    for i in range(k):
        r = live[i]
        if slow[i]:
            x, y = _slow_xy(lo[i], hi[i], codes, units, tab, hp, hw, hk)
        else:
            x, y = _fast_xy(lo[i], hi[i] - lo[i], codes, units, tab)
        m += _record(r, x, y, warn, status, out_rows, out_prev, out_recheck, m)
    return m
