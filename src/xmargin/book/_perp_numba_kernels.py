"""The perp pass in one fused Numba loop; see :mod:`xmargin.book.perp_pass`.

Per row: its spot maintenance sums plus each position's
:func:`xmargin.fast.perps.perp_sums` terms, the decision
:func:`xmargin.fast.health.status_of` and the widened band
:func:`xmargin.book.perp_columns.perp_recheck`; the NumPy path calls the same rules on
columns.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from xmargin.book.perp_columns import error_scale, perp_recheck
from xmargin.book.tolerances import STATUS_BITS
from xmargin.fast.backend import jit
from xmargin.fast.health import status_of
from xmargin.fast.perps import perp_sums

# Untyped for mypy, as the spot kernels: xmargin.book.perp_pass calls them.


@jit(parallel=True)
def perp_decide(  # type: ignore[no-untyped-def]
    rows, mc, md, indptr, perp, size, entry, f, price, index, r_i, r_m, k, w, warn,
    before, status, margin, old, keep, recheck,
):  # fmt: skip
    """Decide ``rows`` (spot sums ``mc``, ``md``) with their perp terms, in place."""
    for t in prange(rows.size):
        r = rows[t]
        x = mc[t]
        y = md[t]
        scale = 0.0
        for i in range(indptr[r], indptr[r + 1]):
            j = perp[i]
            terms = perp_sums(
                size[i], price[j], entry[i], index[j], f[i], r_i[j], r_m[j], k[j], w[j]
            )
            x += terms[4]
            y += terms[5]
            scale += error_scale(size[i], price[j], entry[i], index[j], f[i])
        new = np.int64(status_of(x, y, warn))
        rc = perp_recheck(x, y, scale, warn)
        byte = np.int64(before[t])
        o = byte & STATUS_BITS
        moved = new != o and not rc
        status[r] = np.uint8((byte & ~STATUS_BITS) | (new if moved else o))
        margin[r] = -1.0
        old[t] = np.uint8(o)
        keep[t] = moved or rc
        recheck[t] = rc
