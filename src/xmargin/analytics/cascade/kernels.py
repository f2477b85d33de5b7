"""The cascade's kernels behind one interface, Numba or NumPy (the package's one policy).

:class:`CascadeKernels` gives the engine four operations: find the accounts that became
liquidatable (a :class:`Detector` per run, which keeps whatever state its backend prunes
with), run one round of liquidations, the price impact of the round's sales, and the
pairs' figures at the end.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.cascade.layout import (
    N_F,
    DetectState,
    FloatArray,
    IntArray,
    PairArrays,
    RoundControl,
)
from xmargin.analytics.kernel_layout import SimArrays
from xmargin.analytics.liquidity import LiquidityArrays
from xmargin.analytics.simbook import SimBook
from xmargin.fast.backend import load_numba, per_backend

__all__ = ["CascadeKernels", "Detector", "cascade_kernels"]


class Detector(Protocol):
    """Finds, on each of ``paths``, the untouched accounts that are liquidatable at
    ``mids``: (count per path, accounts path by path)."""

    def detect(
        self, mids: FloatArray, pair_of: NDArray[np.int32], paths: IntArray
    ) -> tuple[IntArray, IntArray]: ...


class _Debtors:
    """The book's debtors and their rows, gathered contiguous."""

    def __init__(self, book: SimBook) -> None:
        self.debtors = np.flatnonzero(book.debtors).astype(np.int64)
        self.dptr, dent = book.rows_of(self.debtors)
        self.dcol, self.dnet = book.col[dent], book.wnet[dent]


class NumpyDetector(_Debtors):
    """Every untouched debtor's margin on every path (no pruning state)."""

    def detect(
        self, mids: FloatArray, pair_of: NDArray[np.int32], paths: IntArray
    ) -> tuple[IntArray, IntArray]:
        from xmargin.analytics.cascade import numpy_kernels

        return numpy_kernels.detect(
            mids, self.debtors, self.dptr, self.dcol, self.dnet, pair_of, paths
        )


class NumbaDetector(_Debtors):
    """Candidates per path within ``band`` of liquidation, rebuilt as the path moves
    (``numba_kernels.detect``); its reference prices also prune the rounds."""

    def __init__(self, book: SimBook, start: FloatArray, band: float, prune: bool) -> None:
        super().__init__(book)
        from xmargin.analytics.cascade import numba_kernels

        self._nb: Any = numba_kernels
        n_paths, n_d = start.shape[0], max(1, len(self.debtors))
        # Room for the candidates' rows per path: a quarter of all debtor entries (at
        # least 8,192), beyond which a path falls back to the shared rows.
        room = max(1, min(len(self.dnet), max(8192, len(self.dnet) // 4)))
        self.state = DetectState(
            ref=start.copy(),
            fresh=np.ones(n_paths, np.bool_),
            debtors=self.debtors,
            dptr=self.dptr,
            dcol=self.dcol,
            dnet=self.dnet,
            cand=np.empty((n_paths, n_d), np.int32),
            slack=np.empty((n_paths, n_d)),
            cand_n=np.zeros(n_paths, np.int64),
            path_ver=np.zeros(n_paths, np.int64),
            cptr=np.zeros((n_paths, n_d), np.int32),
            ccol=np.empty((n_paths, room), np.int32),
            cnet=np.empty((n_paths, room)),
            found=np.empty((n_paths, n_d), np.int32),
        )
        self.band = band
        self.prune = prune

    def detect(
        self, mids: FloatArray, pair_of: NDArray[np.int32], paths: IntArray
    ) -> tuple[IntArray, IntArray]:
        counts = np.zeros(mids.shape[0], np.int64)
        found = self._nb.detect(mids, self.state, self.band, self.prune, pair_of, paths, counts)
        return counts, found


class CascadeKernels:
    """One backend's cascade kernels."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "numba":
            from xmargin.analytics.cascade import numba_kernels as impl
        else:
            from xmargin.analytics.cascade import numpy_kernels as impl  # type: ignore[no-redef]
        self._impl: Any = impl

    def threads(self) -> int:
        """How many threads may run these kernels at once (their GIL released): Numba's
        thread count for the calling thread; the NumPy kernels hold the GIL, so one."""
        if self.name != "numba":
            return 1
        return int(load_numba().get_num_threads())

    def detector(self, book: SimBook, start: FloatArray, band: float, prune: bool) -> Detector:
        if self.name == "numba":
            return NumbaDetector(book, start, band, prune)
        return NumpyDetector(book)

    def one_round(
        self,
        mids: FloatArray,
        det: Detector,
        pairs: PairArrays,
        bk: SimArrays,
        liq: LiquidityArrays,
        ctl: RoundControl,
        path_round: FloatArray,
    ) -> None:
        """One round of liquidations on every path; counts into ``path_round``."""
        if isinstance(det, NumbaDetector):
            self._impl.one_round(mids, det.state, pairs, bk, liq, ctl, path_round)
        else:
            self._impl.one_round(mids, pairs, bk, liq, ctl, path_round)

    def impact(self, mids: FloatArray, sold: FloatArray, liq: LiquidityArrays) -> FloatArray:
        """The mid after the round's sales over the mid (paths x assets)."""
        if self.name == "numba":
            out = np.empty_like(mids)
            self._impl.impact(mids, sold, liq, out)
            return out
        impact: FloatArray = self._impl.impact(mids, sold, liq)
        return impact

    def final(
        self, mids: FloatArray, pairs: PairArrays, bk: SimArrays, s0: FloatArray, b0: FloatArray
    ) -> FloatArray:
        """Per pair at the final prices: residual, Δic, Δid, still liquidatable (``F_*``)."""
        if self.name == "numba":
            out = np.zeros((len(pairs.acct), N_F))
            if len(pairs.acct):
                self._impl.final(mids, pairs, bk, s0, b0, out)
            return out
        final: FloatArray = self._impl.final(mids, pairs, bk, s0, b0)
        return final


#: The kernels of a backend (``auto``: the package's policy, :mod:`xmargin.fast.backend`).
cascade_kernels = per_backend(CascadeKernels)
