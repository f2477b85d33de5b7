"""The full re-price kernel's first pass alone, for ``book.py`` (issue 11).

:func:`xmargin.book._numba_segments.reprice_segments` does each block of rows in two
passes: the sums (``block_sums``: the units read and priced), then the decisions. Timing
the first pass by itself, with the library's own ``block_sums``, shows how much of the
kernel's time is reading and pricing the book, before any decision is taken: if that
part alone is slower than the vectorized read of the kernel's bytes, no faster decision
pass can bring the kernel to that floor.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from xmargin.book._numba_segments import BLOCK, block_sums


@njit(parallel=True, nogil=True, error_model="numpy", cache=True)  # type: ignore[misc]
def sums_pass(  # type: ignore[no-untyped-def]
    starts, ends, pc_start, pc_tmpl, indptr, codes, units, tab, keep, xs_out, ys_out, sink
):  # fmt: skip
    """The sums of rows ``[starts[i], ends[i])`` block by block, as ``reprice_segments``
    takes them, and nothing else. With ``keep`` every row's (x, y) is copied into
    ``xs_out``, ``ys_out`` (to check the pass); without it only one sum per block is
    kept (in ``sink``), so that the timed pass writes nothing the kernel does not."""
    for i in prange(starts.size):
        s = starts[i]
        e = ends[i]
        xs = np.empty(BLOCK)
        ys = np.empty(BLOCK)
        k = np.searchsorted(pc_start, s, side="right") - 1
        acc = 0.0
        while s < e:
            se = min(e, s + BLOCK)
            k = block_sums(s, se, k, pc_start, pc_tmpl, indptr, codes, units, tab, xs, ys)
            if keep:
                for q in range(se - s):
                    xs_out[s + q] = xs[q]
                    ys_out[s + q] = ys[q]
            acc += xs[0] + ys[se - s - 1]
            s = se
        sink[i] = acc


def check_sums(
    starts: np.ndarray,
    ends: np.ndarray,
    pieces: tuple[np.ndarray, np.ndarray],
    indptr: np.ndarray,
    codes: np.ndarray,
    units: np.ndarray,
    tab: np.ndarray,
) -> None:
    """Raise unless :func:`sums_pass` gives every row's sums (against NumPy's, which adds
    in another order: to 1e-12 relative)."""
    n = indptr.size - 1
    xs, ys = np.full(n, np.nan), np.full(n, np.nan)
    sums_pass(starts, ends, *pieces, indptr, codes, units, tab, True, xs, ys,
              np.zeros(starts.size))  # fmt: skip
    c = 2 * codes.astype(np.int64)
    filled = np.diff(indptr) > 0
    heads = indptr[:-1][filled]
    want_x, want_y = np.zeros(n), np.zeros(n)
    want_x[filled] = np.add.reduceat(units * tab[c], heads)
    want_y[filled] = np.add.reduceat(units * tab[c + 1], heads)
    for got, want in ((xs, want_x), (ys, want_y)):
        if not np.allclose(got, want, rtol=1e-12, atol=0.0):
            bad = int(np.flatnonzero(~np.isclose(got, want, rtol=1e-12, atol=0.0))[0])
            raise AssertionError(f"sums pass: row {bad}: {got[bad]!r} != {want[bad]!r}")
