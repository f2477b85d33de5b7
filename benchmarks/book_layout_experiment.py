"""Experiment (issue 11 item 2): the full re-price on two row layouts, against the floors.

Not the library's code: a measurement to choose a layout. Loads the benchmark's books
(``benchmarks/book.py`` writes them into ``out/bench-book/``), takes their clustered CSR
arrays and times, interleaved, best of N, one thread then two:

- ``read``: the floor (a), a vectorized read of codes, units and status (NumPy);
- ``by_set``: the library's kernel (:mod:`xmargin.book._numba_segments`) on the row order
  before this experiment (rows clustered by asset set only, ``book.set_order``);
- ``by_length``: the same kernel after rows are sorted by length (stable, so the asset-set
  clustering stays inside each length): a few segments, entries still row-major. This is
  the order the library now builds (:mod:`xmargin.book.build`), so the library's own
  arrays are already in it;
- ``ell``: sliced ELL, rows grouped by length and entries slot-major (entry j of row i of
  a group of n_g rows at ``base + j n_g + i``), each slot a contiguous pass over the rows.

Each layout's statuses and flagged rows are checked equal to the library's (mapped back
through the permutation). Prints figures; asserts only that equality.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numba import get_num_threads, prange, set_num_threads

from xmargin.book import RiskBook
from xmargin.book import _numba_segments as seg_k
from xmargin.book.build import CHUNK_ROWS
from xmargin.book.screening import near_level, needs_recheck, screening_margin
from xmargin.book.tolerances import STATUS_BITS
from xmargin.fast.backend import jit
from xmargin.fast.health import status_of

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from book import book_files  # noqa: E402
from floors import best_interleaved, per_entry, set_order, stream_copy_bandwidth, vector_read, words  # noqa: E402

BLOCK = 128
_1 = np.uint64(1)
_2 = np.uint64(2)


@jit(parallel=True)
def reprice_ell(  # type: ignore[no-untyped-def]
    c_len, c_row, c_base, c_ng, c_i0, c_i1, out_off, codes, units, tab, warn, status,
    margin, keep_ref, out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """Chunk k: rows ``c_i0[k]:c_i1[k]`` of the group of length ``c_len[k]`` whose first
    row is ``c_row[k]``, first entry ``c_base[k]``, rows ``c_ng[k]``."""
    for k in prange(c_len.size):
        o = out_off[k]
        m = 0
        length = c_len[k]
        ng = np.uint64(c_ng[k])
        base = np.uint64(c_base[k])
        xs = np.empty(BLOCK)
        ys = np.empty(BLOCK)
        x2 = np.empty(BLOCK)
        y2 = np.empty(BLOCK)
        hit = np.empty(BLOCK, dtype=np.bool_)
        s = c_i0[k]
        while s < c_i1[k]:
            nb = min(BLOCK, c_i1[k] - s)
            su = np.uint64(s)
            for q in range(nb):
                xs[q] = 0.0
                ys[q] = 0.0
            if length == 4:
                for h in range(2):
                    lo0 = base + np.uint64(2 * h) * ng + su
                    lo1 = lo0 + ng
                    for q in range(nb):
                        qu = np.uint64(q)
                        c0 = _2 * np.uint64(codes[lo0 + qu])
                        c1 = _2 * np.uint64(codes[lo1 + qu])
                        u0 = units[lo0 + qu]
                        u1 = units[lo1 + qu]
                        x2[q] = u0 * tab[c0] + u1 * tab[c1]
                        y2[q] = u0 * tab[c0 + _1] + u1 * tab[c1 + _1]
                    if h == 0:
                        for q in range(nb):
                            xs[q] = x2[q]
                            ys[q] = y2[q]
                    else:
                        for q in range(nb):
                            xs[q] += x2[q]
                            ys[q] += y2[q]
            else:
                for j in range(length):
                    lo = base + np.uint64(j) * ng + su
                    for q in range(nb):
                        qu = np.uint64(q)
                        c = _2 * np.uint64(codes[lo + qu])
                        u = units[lo + qu]
                        xs[q] += u * tab[c]
                        ys[q] += u * tab[c + _1]
            r0 = c_row[k] + s
            any_hit = False
            for q in range(nb):
                x = xs[q]
                y = ys[q]
                old = np.int64(status[np.uint64(r0) + np.uint64(q)]) & STATUS_BITS
                h = (status_of(x, y, warn) != old) | near_level(x, y, warn)
                hit[q] = h
                any_hit |= h
            if keep_ref:
                for q in range(nb):
                    margin[r0 + q] = np.float32(screening_margin(xs[q], ys[q], warn))
            if any_hit:
                for q in range(nb):
                    if hit[q]:
                        r = r0 + q
                        x = xs[q]
                        y = ys[q]
                        byte = np.int64(status[r])
                        out_rows[o + m] = r
                        out_prev[o + m] = byte & STATUS_BITS
                        if needs_recheck(x, y, warn):
                            out_recheck[o + m] = True
                        else:
                            status[r] = np.uint8((byte & ~STATUS_BITS) | status_of(x, y, warn))
                            out_recheck[o + m] = False
                        m += 1
            s += nb
        out_cnt[k] = m


def by_length(indptr: np.ndarray, codes: np.ndarray, units: np.ndarray):  # type: ignore[no-untyped-def]
    """Rows sorted by length (stable): permutation, CSR arrays."""
    lens = np.diff(indptr).astype(np.int64)
    perm = np.argsort(lens, kind="stable")
    new_lens = lens[perm]
    ip = np.zeros(lens.size + 1, dtype=indptr.dtype)
    np.cumsum(new_lens, out=ip[1:])
    src = np.repeat(indptr[:-1][perm].astype(np.int64) - ip[:-1], new_lens) + np.arange(ip[-1])
    return perm, ip, codes[src], units[src]


def ell_of(perm: np.ndarray, ip: np.ndarray, codes: np.ndarray, units: np.ndarray):  # type: ignore[no-untyped-def]
    """Sliced ELL of the length-sorted CSR: slot-major within each length group."""
    lens = np.diff(ip).astype(np.int64)
    bounds = np.flatnonzero(np.r_[True, lens[1:] != lens[:-1], True])
    e_codes = np.empty_like(codes)
    e_units = np.empty_like(units)
    groups = []
    for g0, g1 in itertools.pairwise(bounds):
        length, ng, base = int(lens[g0]), int(g1 - g0), int(ip[g0])
        if length:
            blk_c = codes[base : base + ng * length].reshape(ng, length)
            blk_u = units[base : base + ng * length].reshape(ng, length)
            e_codes[base : base + ng * length] = blk_c.T.ravel()
            e_units[base : base + ng * length] = blk_u.T.ravel()
        groups.append((length, int(g0), base, ng))
    cl, cr, cb, cn, ci0, ci1 = [], [], [], [], [], []
    for length, row, base, ng in groups:
        for i0 in range(0, ng, CHUNK_ROWS):
            cl.append(length)
            cr.append(row)
            cb.append(base)
            cn.append(ng)
            ci0.append(i0)
            ci1.append(min(ng, i0 + CHUNK_ROWS))
    chunks = tuple(np.array(v, dtype=np.int64) for v in (cl, cr, cb, cn, ci0, ci1))
    return chunks, e_codes, e_units


def outs(n: int, nchunks: int) -> tuple[np.ndarray, ...]:
    return (np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.bool_),
            np.zeros(nchunks, np.int64))  # fmt: skip


def flagged(out: tuple[np.ndarray, ...], off: np.ndarray) -> tuple[np.ndarray, ...]:
    rows, prev, recheck, cnt = out
    idx = np.concatenate([np.arange(o, o + c) for o, c in zip(off, cnt, strict=True)])
    return rows[idx], prev[idx], recheck[idx]


def measure(book: RiskBook, repeats: int, bandwidth: float) -> None:
    a, t = book.arrays, book._tables
    n = book.n_accounts
    warn = t.warn
    rng = np.random.default_rng(3)
    tab = t.tab * np.repeat(1 + rng.normal(0, 0.05, t.tab.size // 2), 2)  # moved prices
    st0 = book._status.copy()
    starts = np.arange(0, n, CHUNK_ROWS, dtype=np.int64)
    ends = np.minimum(starts + CHUNK_ROWS, n)
    off = np.cumsum(ends - starts) - (ends - starts)
    seg = a.segment_starts()
    perm, ip, lc, lu = by_length(a.indptr, a.codes, a.units)
    lst0 = st0[perm]
    lseg = np.r_[np.flatnonzero(np.r_[True, np.diff(np.diff(ip)) != 0]), n].astype(np.int64)
    p_seg, p_lseg = per_entry(seg), per_entry(lseg)
    chunks, ec, eu = ell_of(perm, ip, lc, lu)
    c_off = np.cumsum(chunks[5] - chunks[4]) - (chunks[5] - chunks[4])
    margin = np.zeros(n, np.float32)

    # equality first: same statuses, same flagged rows (in the library's row numbers)
    s_lib, o_lib = st0.copy(), outs(n, starts.size)
    seg_k.reprice_segments(starts, ends, off, *p_seg, a.indptr, a.codes, a.units, tab, warn,
                           s_lib, margin, False, *o_lib)  # fmt: skip
    s_len, o_len = lst0.copy(), outs(n, starts.size)
    seg_k.reprice_segments(starts, ends, off, *p_lseg, ip, lc, lu, tab, warn, s_len, margin,
                           False, *o_len)  # fmt: skip
    s_ell, o_ell = lst0.copy(), outs(n, chunks[0].size)
    reprice_ell(*chunks, c_off, ec, eu, tab, warn, s_ell, margin, False, *o_ell)  # type: ignore[no-untyped-call]
    want = flagged(o_lib, off)
    order = np.argsort(want[0])
    for name, st, o, coff in (("by_length", s_len, o_len, off), ("ell", s_ell, o_ell, c_off)):
        assert np.array_equal(st, s_lib[perm]), name
        got = flagged(o, coff)
        rows = perm[got[0]]
        go = np.argsort(rows)
        assert np.array_equal(rows[go], want[0][order]), name
        assert np.array_equal(got[1][go], want[1][order]), name
        assert np.array_equal(got[2][go], want[2][order]), name
    print(f"  equal decisions: {want[0].size:,} flagged rows, statuses equal, both layouts")

    o_ip, o_codes, o_units, st_a, o_seg = set_order(book)
    p_oseg = per_entry(o_seg)
    st_b, st_c = lst0.copy(), lst0.copy()
    bufs = [outs(n, starts.size), outs(n, starts.size), outs(n, chunks[0].size)]
    ws = words([a.codes, a.units, st0])
    must = sum(x.nbytes for x in (a.codes, a.units, st0))
    fns: dict[str, Callable[[], object]] = {
        "read": lambda: vector_read(ws),
        "by_set": lambda: seg_k.reprice_segments(
            starts, ends, off, *p_oseg, o_ip, o_codes, o_units, tab, warn, st_a, margin,
            False, *bufs[0]),
        "by_length": lambda: seg_k.reprice_segments(
            starts, ends, off, *p_lseg, ip, lc, lu, tab, warn, st_b, margin, False, *bufs[1]),
        "ell": lambda: reprice_ell(*chunks, c_off, ec, eu, tab, warn, st_c, margin, False,
                                   *bufs[2]),
    }  # fmt: skip
    print(f"  segments: by set {o_seg.size - 1:,}, by length {lseg.size - 1}; "
          f"ell chunks {chunks[0].size}; read {must / 2**20:.1f} MiB, "
          f"(b) = {must / bandwidth * 1e3:.2f} ms")  # fmt: skip
    for threads in (1, 2):
        set_num_threads(threads)
        best = best_interleaved(fns, repeats)
        line = ", ".join(
            f"{k} {v * 1e3:.2f} ms ({v / best['read']:.2f}x a, {v / (must / bandwidth):.2f}x b)"
            for k, v in best.items()
            if k != "read"
        )
        print(f"  {threads} thread(s): read {best['read'] * 1e3:.2f} ms; {line}", flush=True)
    set_num_threads(get_num_threads())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--assets", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--positions-per-account", nargs="+", default=["default", "4.8"])
    ap.add_argument("--data", type=Path, default=ROOT / "out" / "bench-book")
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bandwidth = stream_copy_bandwidth()
    print(f"copy bandwidth {bandwidth / 1e9:.1f} GB/s")
    for per_arg in args.positions_per_account:
        per = None if per_arg == "default" else float(per_arg)
        files = book_files(args.accounts, args.assets, 1, args.data, per, False)
        book = RiskBook.load(files["parquet"], backend="numba")
        print(f"{book.n_accounts:,} accounts, {book.n_positions / book.n_accounts:.2f} "
              f"positions/account, {book.n_entries:,} entries")  # fmt: skip
        measure(book, args.repeats, bandwidth)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
