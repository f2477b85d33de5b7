"""The perp pass in one fused Numba loop; see :mod:`xmargin.book.perp_pass`.

Per row: its spot maintenance sums (:func:`xmargin.book._numba_kernels._slow_xy`, as
the spot kernels' ``row_sums`` takes them, read here rather than in a pass of their own,
with the row's spot reference margin set to ``PERP_ROW`` on the way) plus each position's
:func:`xmargin.fast.perps.perp_maintenance_terms` (its effective maintenance margin kept
per position), the decision
:func:`xmargin.fast.health.status_of`, the widened band
:func:`xmargin.book.perp_columns.perp_recheck` and, in a reference pass, the screening
margin :func:`xmargin.book.perp_columns.perp_screening_margin`; the NumPy path calls the
same rules on columns.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from xmargin.book._numba_kernels import _slow_xy
from xmargin.book.perp_columns import error_scale, perp_recheck, perp_screening_margin
from xmargin.book.tolerances import STATUS_BITS
from xmargin.fast.backend import jit
from xmargin.fast.health import status_of
from xmargin.fast.perps import notional, perp_maintenance_terms

# Untyped for mypy, as the spot kernels: xmargin.book.perp_pass calls them.


@jit(parallel=True)
def perp_decide(  # type: ignore[no-untyped-def]
    rows, a_indptr, codes, units, tab, hp, hw, hk, spot_margin, perp_row,
    indptr, perp, size, entry, f, rm, price, index, warn,
    before, status, margin, reference, old, keep, recheck,
):  # fmt: skip
    """Decide ``rows`` (the book's columns ``a_indptr`` to ``hk``) with their perp terms,
    in place; each row's spot reference margin ``spot_margin`` set to ``perp_row``;
    ``reference``: keep each row's screening margin."""
    for t in prange(rows.size):
        r = rows[t]
        mc, md = _slow_xy(a_indptr[r], a_indptr[r + 1], codes, units, tab, hp, hw, hk)
        spot_margin[r] = perp_row
        x = mc
        y = md
        scale = 0.0
        total = 0.0
        for i in range(indptr[r], indptr[r + 1]):
            j = perp[i]
            q, p, e, fi, f0 = size[i], price[j], entry[i], index[j], f[i]
            gain, loss = perp_maintenance_terms(q, p, e, fi, f0, rm[i])
            x += gain
            y += loss
            scale += error_scale(q, p, e, fi, f0)
            total += notional(q, p)
        if reference:
            margin[r] = np.float32(perp_screening_margin(x, y, mc, md, total, scale, warn))
        new = np.int64(status_of(x, y, warn))
        rc = perp_recheck(x, y, scale, warn)
        byte = np.int64(before[t])
        o = byte & STATUS_BITS
        moved = new != o and not rc
        status[r] = np.uint8((byte & ~STATUS_BITS) | (new if moved else o))
        old[t] = np.uint8(o)
        keep[t] = moved or rc
        recheck[t] = rc
