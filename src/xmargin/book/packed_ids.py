"""Account ids packed by blocks: each block's common prefix once, then each id's rest.

A million ids as an Arrow string column cost 4 bytes of offset plus every character:
14 bytes an id for ``acc0000123``, more than the book's positions leave room for. Ids
in file order mostly share long prefixes with their neighbours, so they are kept in
blocks of :data:`BLOCK`: the block's longest common prefix once, then the rest of each
id (its length a byte, or none where every id has the same length), about 3 bytes an id
for such ids. Ids longer than :data:`MAX_PACKED` characters (or bytes) are kept as
Arrow strings. Decoding is vectorized (a few ids per tick, or every id for a listing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from xmargin._typing import Int64Array1D, UInt8Array1D
from xmargin.io.arrow_values import from_numpy

__all__ = ["BLOCK", "MAX_PACKED", "PackedIds"]

#: Ids per block (the unit that shares a prefix).
BLOCK = 64
#: Longer ids (in UTF-8 bytes) are kept as Arrow strings.
MAX_PACKED = 48
#: Ids packed per step of the build (bounds its scratch memory).
_STEP = BLOCK * 1024
_BIG = 256  # from this many ids, decode into an Arrow array


def _bytes_of(ids: pa.Array) -> tuple[Int64Array1D, UInt8Array1D]:
    """(offsets, UTF-8 bytes) of a string array without nulls."""
    arr = ids.cast(pa.large_string())
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    buf = arr.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, np.uint8)
    return offs, data


class PackedIds:
    """``n`` strings (no nulls), read by index (module docstring)."""

    __slots__ = (
        "_fixed", "_off", "_pbytes", "_pdata", "_plain", "_poff", "_rbytes", "_rest", "_rlen",
        "_size",
    )  # fmt: skip

    def __init__(self, ids: pa.Array) -> None:
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        self._size = len(ids)
        self._plain: pa.Array | None = None
        offs, data = _bytes_of(ids)
        lens = np.diff(offs)
        if self._size == 0 or int(lens.max()) > MAX_PACKED:
            self._plain = ids.cast(pa.string())
            return
        self._fixed = int(lens[0]) if bool((lens == lens[0]).all()) else -1
        packed = [self._pack(offs[i : i + _STEP + 1], data) for i in range(0, self._size, _STEP)]
        plen = np.concatenate([p for _, p, _ in packed])
        self._poff = np.zeros(plen.size + 1, dtype=np.int64)
        np.cumsum(plen, out=self._poff[1:])
        self._pdata = np.concatenate([head for (head, _), _, _ in packed])
        self._rest = np.concatenate([rest for (_, rest), _, _ in packed])
        rlen = [q for _, _, q in packed]
        rl = np.concatenate(rlen)
        block_rest = np.add.reduceat(rl.astype(np.int64), np.arange(0, rl.size, BLOCK))
        self._off = np.zeros(plen.size, dtype=np.int64)
        np.cumsum(block_rest[:-1], out=self._off[1:])
        self._rlen: UInt8Array1D | None = None if self._fixed >= 0 else rl.astype(np.uint8)
        # The bytes live once, as Python bytes (sliced per id without NumPy's overhead),
        # the arrays are views of them (for the vectorized decoding).
        self._rbytes = self._rest.tobytes()
        self._pbytes = self._pdata.tobytes()
        self._rest = np.frombuffer(self._rbytes, dtype=np.uint8)
        self._pdata = np.frombuffer(self._pbytes, dtype=np.uint8)
        if max(self._rest.size, self._pdata.size) < 1 << 31:  # per block: two int32 offsets
            self._off = self._off.astype(np.int32)
            self._poff = self._poff.astype(np.int32)

    @staticmethod
    def _pack(offs: Int64Array1D, data: UInt8Array1D) -> tuple[Any, Any, Any]:
        """((prefix bytes, rest bytes), prefix length per block, rest length per id)."""
        lens = np.diff(offs)
        m, w = lens.size, max(int(lens.max()), 1)
        col = np.arange(w)
        valid = col < lens[:, None]
        grid = np.zeros((m, w), dtype=np.uint8)
        grid[valid] = data[(offs[:-1, None] + col)[valid]]
        first = (np.arange(m) // BLOCK) * BLOCK
        same = (grid == grid[first]) & valid & valid[first]
        lcp = np.where(same.all(axis=1), w, np.argmin(same, axis=1))
        lcp = np.minimum(lcp, np.minimum(lens, lens[first]))
        starts = np.arange(0, m, BLOCK)
        plen = np.minimum.reduceat(lcp, starts)
        prefix_bytes = grid[starts][col < plen[:, None]]
        p_of = np.repeat(plen, BLOCK)[:m]
        rest_bytes = grid[(col >= p_of[:, None]) & valid]
        return (prefix_bytes, rest_bytes), plen, lens - p_of

    def __len__(self) -> int:
        return self._size

    def _where(self, idx: Int64Array1D) -> tuple[Int64Array1D, Int64Array1D, Int64Array1D]:
        """(block, start of the rest in ``_rest``, rest length) of each id ``idx``."""
        b = idx // BLOCK
        plen = self._poff[b + 1].astype(np.int64) - self._poff[b]
        if self._rlen is None:
            rl = self._fixed - plen
            return b, self._off[b].astype(np.int64) + (idx - b * BLOCK) * rl, rl
        rlen = self._rlen
        if idx.size > 4096:
            cs = np.concatenate([[0], np.cumsum(rlen, dtype=np.int64)])
            within = cs[idx] - cs[b * BLOCK]
        else:
            k = np.arange(BLOCK)
            at = np.minimum(b[:, None] * BLOCK + k, rlen.size - 1)
            within = np.where(k < (idx - b * BLOCK)[:, None], rlen[at].astype(np.int64), 0).sum(1)
        return b, self._off[b].astype(np.int64) + within, rlen[idx].astype(np.int64)

    def get(self, i: int) -> str:
        """Id ``i``."""
        if self._plain is not None:
            return str(self._plain[i].as_py())
        b, s, n = (int(x[0]) for x in self._where(np.array([i], dtype=np.int64)))
        head = self._pbytes[int(self._poff[b]) : int(self._poff[b + 1])]
        return (head + self._rbytes[s : s + n]).decode()

    def take(self, idx: Int64Array1D) -> list[str]:
        """The ids ``idx``, in that order."""
        if self._plain is not None or idx.size >= _BIG:
            out: list[str] = self.take_arrow(idx).to_pylist()
            return out
        b, s, n = self._where(idx)
        p0, p1 = self._poff[b].tolist(), self._poff[b + 1].tolist()
        head, rest = self._pbytes, self._rbytes
        return [
            (head[w:x] + rest[y:z]).decode()
            for w, x, y, z in zip(p0, p1, s.tolist(), (s + n).tolist(), strict=True)
        ]

    def take_arrow(self, idx: Int64Array1D) -> pa.Array:
        """The ids ``idx`` as an Arrow string array."""
        if self._plain is not None:
            return self._plain.take(from_numpy(np.asarray(idx, dtype=np.int64)))
        b, s, n = self._where(idx)
        plen = self._poff[b + 1].astype(np.int64) - self._poff[b]
        out_len = plen + n
        offs = np.zeros(idx.size + 1, dtype=np.int64)
        np.cumsum(out_len, out=offs[1:])
        total = int(offs[-1])
        owner = np.repeat(np.arange(idx.size), out_len)
        j = np.arange(total, dtype=np.int64) - offs[:-1][owner]
        pb = plen[owner]
        head = j < pb
        out = np.empty(total, dtype=np.uint8)
        out[head] = self._pdata[(self._poff[b].astype(np.int64)[owner] + j)[head]]
        out[~head] = self._rest[(s[owner] + j - pb)[~head]]
        return pa.LargeStringArray.from_buffers(
            idx.size, pa.py_buffer(offs), pa.py_buffer(out)
        ).cast(pa.string())

    @property
    def nbytes(self) -> int:
        if self._plain is not None:
            return int(self._plain.nbytes)
        rl = 0 if self._rlen is None else self._rlen.nbytes
        return int(
            self._rest.nbytes + self._pdata.nbytes + self._poff.nbytes + self._off.nbytes + rl
        )
