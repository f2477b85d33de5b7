"""The pairs (path, account) of a cascade run: found liquidatable once, tracked from then on.

A pair owns a copy of its account's balances (``es``/``eb``, from ``off``), changed by
the liquidations on its path; the book's own balances stay those of the start. Arrays
grow by doubling; ``pair_of[p, i]`` is account ``i``'s pair on path ``p`` (-1: none yet).
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.cascade.layout import N_T, FloatArray, IntArray, PairArrays
from xmargin.analytics.lanes import ranges
from xmargin.analytics.simbook import SimBook

__all__ = ["Pairs"]

G = TypeVar("G", bound=NDArray[Any])


def _grow(a: G, n: int) -> G:
    out = np.zeros((n, *a.shape[1:]), dtype=a.dtype)
    out[: len(a)] = a
    return cast(G, out)


class Pairs:
    """Every pair of a run so far, and each path's pairs in the order they were found."""

    def __init__(self, book: SimBook, n_paths: int) -> None:
        self.book = book
        self.n = 0
        self.n_ent = 0
        cap = 1024
        self.path = np.empty(cap, np.int64)
        self.acct = np.empty(cap, np.int64)
        self.off = np.empty(cap, np.int64)
        self.out = np.zeros((cap, N_T))
        self.live = np.ones(cap, np.int8)
        self.ver = np.full(cap, -1, np.int64)
        self.slack = np.zeros(cap)
        ecap = 1024 * max(1, book.max_row)
        self.es = np.empty(ecap)
        self.eb = np.empty(ecap)
        self.pair_of = np.full((n_paths, book.n_accounts), -1, dtype=np.int32)
        self.path_ptr = np.zeros(n_paths + 1, np.int64)
        self.order = np.empty(0, np.int64)

    def add(self, counts: IntArray, accounts: IntArray) -> None:
        """Add ``counts[p]`` new pairs on each path ``p`` (``accounts``, path by path)."""
        total = int(counts.sum())
        if total == 0:
            return
        bk = self.book
        n_paths = len(counts)
        new_path = np.repeat(np.arange(n_paths, dtype=np.int64), counts)
        lens = bk.indptr[accounts + 1] - bk.indptr[accounts]
        need_p, need_e = self.n + total, self.n_ent + int(lens.sum())
        if need_p > len(self.path):
            cap = max(need_p, 2 * len(self.path))
            for name in ("path", "acct", "off", "out", "live", "ver", "slack"):
                setattr(self, name, _grow(getattr(self, name), cap))
        if need_e > len(self.es):
            ecap = max(need_e, 2 * len(self.es))
            self.es, self.eb = _grow(self.es, ecap), _grow(self.eb, ecap)
        sl = slice(self.n, need_p)
        self.path[sl] = new_path
        self.acct[sl] = accounts
        self.off[sl] = self.n_ent + np.concatenate(([0], np.cumsum(lens)[:-1]))
        self.out[sl] = 0.0
        self.live[sl] = 1
        self.ver[sl] = -1
        src = ranges(bk.indptr[accounts], lens)
        self.es[self.n_ent : need_e] = bk.s[src]
        self.eb[self.n_ent : need_e] = bk.b[src]
        self.pair_of[new_path, accounts] = np.arange(self.n, need_p, dtype=np.int32)
        # Each path's new pairs go after its old ones: an insertion (one copy), not a
        # re-sort of every pair.
        at = np.repeat(self.path_ptr[1:], counts)
        self.order = np.insert(self.order, at, np.arange(self.n, need_p, dtype=np.int64))
        self.path_ptr[1:] += np.cumsum(counts)
        self.n, self.n_ent = need_p, need_e

    def arrays(self) -> PairArrays:
        """The pairs as the kernels take them."""
        n = self.n
        return PairArrays(
            self.path_ptr, self.order, self.path[:n], self.acct[:n], self.off[:n],
            self.live[:n], self.ver[:n], self.slack[:n], self.es, self.eb, self.out[:n],
        )  # fmt: skip

    def balances_on(self, path: int) -> tuple[FloatArray, FloatArray]:
        """Every entry's balances of the book on ``path`` now (the book's where no pair)."""
        bk = self.book
        s, b = bk.s.copy(), bk.b.copy()
        for t in np.flatnonzero(self.path[: self.n] == path):
            i = int(self.acct[t])
            lo, hi = int(bk.indptr[i]), int(bk.indptr[i + 1])
            off = int(self.off[t])
            s[lo:hi] = self.es[off : off + hi - lo]
            b[lo:hi] = self.eb[off : off + hi - lo]
        return s, b
