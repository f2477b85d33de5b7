"""Account ids of the risk book: row -> id, and id -> row without a Python dict.

The ids of a loaded book stay one Arrow string array (a million ids as Python strings
would cost more than the book's columns); an id is found by binary search over a sorted
permutation, built at the first look-up. Accounts added later are kept apart, in order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xmargin._typing import Int64Array1D

__all__ = ["IdIndex"]


class IdIndex:
    """The ids of every row: ``ids`` for the loaded rows, then the rows added since."""

    __slots__ = ("_extra", "_ids", "_sorted")

    def __init__(self, ids: pa.Array) -> None:
        self._ids = ids
        self._extra: list[str] = []
        self._sorted: Int64Array1D | None = None

    def __len__(self) -> int:
        return len(self._ids) + len(self._extra)

    def id(self, r: int) -> str:
        """The id of row ``r``."""
        n0 = len(self._ids)
        return str(self._ids[r].as_py()) if r < n0 else self._extra[r - n0]

    def ids_of(self, rows: Int64Array1D) -> list[str]:
        """The ids of ``rows``, in that order."""
        n0 = len(self._ids)
        if rows.size and int(rows.max()) < n0:
            out: list[str] = self._ids.take(pa.array(rows, pa.int64())).to_pylist()
            return out
        return [self.id(int(r)) for r in rows]

    def column(self, rows: Int64Array1D) -> pa.Array:
        """The ids of ``rows`` as an Arrow array."""
        if self._extra:
            return pa.array(self.ids_of(rows), pa.string())
        return self._ids.take(pa.array(rows, pa.int64()))

    def find(self, account: str) -> int | None:
        """The row of ``account``, or ``None``."""
        if account in self._extra:
            return len(self._ids) + self._extra.index(account)
        if self._sorted is None:
            self._sorted = np.asarray(pc.sort_indices(self._ids), dtype=np.int64)
        order = self._sorted
        lo, hi = 0, order.size
        while lo < hi:
            mid = (lo + hi) // 2
            if self._ids[int(order[mid])].as_py() < account:
                lo = mid + 1
            else:
                hi = mid
        if lo < order.size and self._ids[int(order[lo])].as_py() == account:
            return int(order[lo])
        return None

    def append(self, account: str) -> int:
        """Add ``account`` as the next row; returns its row."""
        self._extra.append(account)
        return len(self) - 1

    @property
    def nbytes(self) -> int:
        """Bytes of the id column (Arrow)."""
        return int(self._ids.nbytes)

    @property
    def index_nbytes(self) -> int:
        """Bytes of the sorted permutation, once built."""
        return 0 if self._sorted is None else int(self._sorted.nbytes)
