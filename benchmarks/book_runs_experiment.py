"""Experiment (issue 11 item 2): sums over runs of rows with one code sequence.

Not the library's code: a measurement to decide whether to build it. Inside a run of
rows whose entries carry the same codes in the same order, each slot's prices are the
same for every row, so a row's sums are ``x = Σ_j u[j] px_j``, ``y = Σ_j u[j] py_j``
with ``(px_j, py_j)`` loaded once per run: no code read, no table lookup per entry.

Loads the benchmark's books (``out/bench-book/``, written by ``benchmarks/book.py``),
then:

- ``seq`` layout: the library's rows (by length, then asset set) with, inside each
  (length, asset set) group, rows sorted by their code sequence (stable): the asset-set
  runs and segments are unchanged, rows of one code sequence become adjacent;
- pieces: runs of >= ``--min-run`` rows with one code sequence are *run* pieces (their
  sums from a pair table of the run's ``(px_j, py_j)``); the rows between are per-entry
  pieces (today's ``_xy``); a piece never crosses a change of length;
- checks, on several moved price sets: x and y of every row bit-identical between
  today's per-entry sums and the run sums; statuses, flagged rows and float32 margins of
  the run kernel equal to today's kernel on the same rows;
- times, interleaved, best of N, 1 then 2 threads: the floors (a) old (codes, units,
  status, segment starts: what today's kernel reads) and new (units, status, the piece
  table, the codes of per-entry rows: what the run kernel reads); today's kernel on the
  library's layout and on the ``seq`` layout; the run kernel on the ``seq`` layout.

Prints figures; asserts only the equalities.
"""

from __future__ import annotations

import argparse
import os
import sys
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
from floors import best_interleaved, per_entry, vector_read, words  # noqa: E402

BLOCK = 128
#: longest row a run piece may have (the pair table's size / 2)
MAX_RUN_LEN = 6
_U = np.uint64
_1 = np.uint64(1)
_2 = np.uint64(2)
_3 = np.uint64(3)
_0 = np.uint64(0)


@jit(inline=True)
def _run_sums(lo, length, nb, t, codes, tab, units, xs, ys, o):  # type: ignore[no-untyped-def]
    """Sums of ``nb`` rows of ``length`` (1 to 6) entries from entry ``lo`` whose codes
    are those at ``t``: each slot's two prices loaded once, as scalars; the additions of
    ``_xy`` in the same order (x and y as two chains)."""
    a0 = a1 = a2 = a3 = a4 = a5 = 0.0
    b0 = b1 = b2 = b3 = b4 = b5 = 0.0
    c = _2 * _U(codes[t])
    a0, b0 = tab[c], tab[c + _1]
    if length >= 2:
        c = _2 * _U(codes[t + 1])
        a1, b1 = tab[c], tab[c + _1]
    if length >= 3:
        c = _2 * _U(codes[t + 2])
        a2, b2 = tab[c], tab[c + _1]
    if length >= 4:
        c = _2 * _U(codes[t + 3])
        a3, b3 = tab[c], tab[c + _1]
    if length >= 5:
        c = _2 * _U(codes[t + 4])
        a4, b4 = tab[c], tab[c + _1]
    if length >= 6:
        c = _2 * _U(codes[t + 5])
        a5, b5 = tab[c], tab[c + _1]
    if length == 1:
        for q in range(nb):
            e = lo + _U(q)
            u0 = units[e]
            xs[o + _U(q)] = u0 * a0
            ys[o + _U(q)] = u0 * b0
    elif length == 2:
        for q in range(nb):
            e = lo + _U(2 * q)
            u0 = units[e]
            u1 = units[e + _1]
            xs[o + _U(q)] = u0 * a0 + u1 * a1
            ys[o + _U(q)] = u0 * b0 + u1 * b1
    elif length == 3:
        for q in range(nb):
            e = lo + _U(3 * q)
            u0 = units[e]
            u1 = units[e + _1]
            u2 = units[e + _2]
            xs[o + _U(q)] = (u0 * a0 + u1 * a1) + u2 * a2
            ys[o + _U(q)] = (u0 * b0 + u1 * b1) + u2 * b2
    elif length == 4:
        for q in range(nb):
            e = lo + _U(4 * q)
            u0 = units[e]
            u1 = units[e + _1]
            u2 = units[e + _2]
            u3 = units[e + _3]
            xs[o + _U(q)] = (u0 * a0 + u1 * a1) + (u2 * a2 + u3 * a3)
            ys[o + _U(q)] = (u0 * b0 + u1 * b1) + (u2 * b2 + u3 * b3)
    elif length == 5:
        for q in range(nb):
            e = lo + _U(5 * q)
            u0 = units[e]
            u1 = units[e + _1]
            u2 = units[e + _2]
            u3 = units[e + _3]
            u4 = units[e + _2 * _2]
            xs[o + _U(q)] = (((0.0 + u0 * a0) + u1 * a1) + u2 * a2 + u3 * a3) + u4 * a4
            ys[o + _U(q)] = (((0.0 + u0 * b0) + u1 * b1) + u2 * b2 + u3 * b3) + u4 * b4
    else:
        for q in range(nb):
            e = lo + _U(6 * q)
            u0 = units[e]
            u1 = units[e + _1]
            u2 = units[e + _2]
            u3 = units[e + _3]
            u4 = units[e + _2 * _2]
            u5 = units[e + _2 * _2 + _1]
            xs[o + _U(q)] = ((((0.0 + u0 * a0) + u1 * a1) + u2 * a2 + u3 * a3) + u4 * a4) + u5 * a5
            ys[o + _U(q)] = ((((0.0 + u0 * b0) + u1 * b1) + u2 * b2 + u3 * b3) + u4 * b4) + u5 * b5


@jit(inline=True)
def _entry_sums(lo, length, nb, codes, units, tab, xs, ys, o):  # type: ignore[no-untyped-def]
    """``_numba_segments._sums`` writing from ``xs[o]``."""
    if length == 1:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = seg_k._xy(lo + _U(q), 1, codes, units, tab)
    elif length == 2:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = seg_k._xy(lo + _U(2 * q), 2, codes, units, tab)
    elif length == 3:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = seg_k._xy(lo + _U(3 * q), 3, codes, units, tab)
    elif length == 4:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = seg_k._xy(lo + _U(4 * q), 4, codes, units, tab)
    elif length == 5:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = seg_k._xy(lo + _U(5 * q), 5, codes, units, tab)
    elif length == 6:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = seg_k._xy(lo + _U(6 * q), 6, codes, units, tab)
    else:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = seg_k._xy(lo + _U(length * q), length, codes, units, tab)


@jit(inline=True)
def _block_sums(s, se, k, pc_start, pc_tmpl, pc_lo, pc_len, codes, units, tab, xs, ys):  # type: ignore[no-untyped-def]
    """Sums of rows ``[s, se)`` into ``xs[0:]``, ``ys[0:]``; ``k``: the piece of row s.
    Returns the piece of row ``se``."""
    r = s
    while r < se:
        nxt = pc_start[k + 1]
        pe = min(se, nxt)
        t = pc_tmpl[k]
        length = pc_len[k]
        lo = pc_lo[k] + length * (r - pc_start[k])
        if t < 0:
            _entry_sums(_U(lo), length, pe - r, codes, units, tab, xs, ys, _U(r - s))
        else:
            _run_sums(_U(lo), length, pe - r, t, codes, tab, units, xs, ys, _U(r - s))
        if pe == nxt:
            k += 1
        r = pe
    return k


@jit(parallel=True)
def reprice_runs(  # type: ignore[no-untyped-def]
    starts, ends, out_off, pc_start, pc_tmpl, pc_lo, pc_len, codes, units, tab, warn, status,
    margin, keep_ref, out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """``reprice_segments`` with the sums of run pieces from their pair table."""
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        s = starts[i]
        e = ends[i]
        xs = np.empty(BLOCK)
        ys = np.empty(BLOCK)
        hit = np.empty(BLOCK, dtype=np.bool_)
        k = np.searchsorted(pc_start, s, side="right") - 1
        while s < e:
            se = min(e, s + BLOCK)
            nb = se - s
            k = _block_sums(s, se, k, pc_start, pc_tmpl, pc_lo, pc_len, codes, units, tab, xs, ys)
            any_hit = False
            for q in range(nb):
                x = xs[q]
                y = ys[q]
                old = np.int64(status[_U(s) + _U(q)]) & STATUS_BITS
                h = (status_of(x, y, warn) != old) | near_level(x, y, warn)
                hit[q] = h
                any_hit |= h
            if keep_ref:
                for q in range(nb):
                    margin[s + q] = np.float32(screening_margin(xs[q], ys[q], warn))
            if any_hit:
                for q in range(nb):
                    if hit[q]:
                        r = s + q
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
            s = se
        out_cnt[i] = m


@jit()
def all_sums(n, pc_start, pc_tmpl, pc_lo, pc_len, codes, units, tab, runs, xs, ys):  # type: ignore[no-untyped-def]
    """x, y of every row: run pieces from their pair table (``runs``) or all per entry."""
    bx = np.empty(BLOCK)
    by = np.empty(BLOCK)
    tm = pc_tmpl if runs else np.full(pc_tmpl.size, -1, dtype=np.int64)
    k = 0
    s = 0
    while s < n:
        se = min(n, s + BLOCK)
        k = _block_sums(s, se, k, pc_start, tm, pc_lo, pc_len, codes, units, tab, bx, by)
        xs[s:se] = bx[: se - s]
        ys[s:se] = by[: se - s]
        s = se


def seq_layout(book: RiskBook) -> tuple[np.ndarray, ...]:
    """(indptr, codes, units, status, order) with rows inside each (length, asset set)
    group sorted by code sequence (stable)."""
    a = book.arrays
    n = a.indptr.size - 1
    k2 = 2 * len(book.assets)
    lens = np.diff(a.indptr).astype(np.int64)
    row = np.repeat(np.arange(n), lens)
    pos = np.arange(a.codes.size) - a.indptr[:-1].astype(np.int64)[row]
    asset = ((a.codes.astype(np.int64) % k2) >> 1).astype(np.uint64)
    asset_bits = np.left_shift(np.uint64(1), asset)
    sig = np.zeros(n, np.uint64)
    np.bitwise_or.at(sig, row, asset_bits)
    brk = np.ones(n, bool)
    brk[1:] = (lens[1:] != lens[:-1]) | (sig[1:] != sig[:-1])
    group = np.cumsum(brk)
    width = int(lens.max()) if n else 0
    mat = np.full((n, width), -1, np.int64)
    mat[row, pos] = a.codes
    keys = (*(mat[:, j] for j in range(width - 1, -1, -1)), group)
    order = np.lexsort(keys)
    nl = lens[order]
    ip = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(nl, out=ip[1:])
    src = np.repeat(a.indptr[:-1][order].astype(np.int64) - ip[:-1], nl) + np.arange(ip[-1])
    return ip, a.codes[src], a.units[src], book._status[order].copy(), order


def pieces(
    ip: np.ndarray, codes: np.ndarray, min_run: int, max_len: int = MAX_RUN_LEN
) -> tuple[np.ndarray, ...]:
    """(pc_start, pc_tmpl, pc_lo, pc_len): rows ``pc_start[k]:pc_start[k+1]`` of piece
    k, its template's first entry (-1: per entry), its first entry, its row length."""
    n = ip.size - 1
    lens = np.diff(ip)
    row = np.repeat(np.arange(n), lens)
    prev = np.arange(codes.size) - np.repeat(lens, lens)  # same slot of the row before
    diff = np.ones(codes.size, bool)
    ok = prev >= 0
    diff[ok] = codes[ok] != codes[prev[ok]]
    row_diff = np.bincount(row, weights=diff, minlength=n) > 0
    same = np.zeros(n, bool)  # row r has the code sequence of row r - 1
    same[1:] = ~row_diff[1:] & (lens[1:] == lens[:-1]) & (lens[1:] > 0)
    run_start = np.flatnonzero(~same)
    run_len = np.diff(np.append(run_start, n))
    is_run = (run_len >= min_run) & (lens[run_start] > 0) & (lens[run_start] <= max_len)
    # piece boundaries: start of each long run, the row after it, every change of length
    b = np.concatenate([run_start[is_run], run_start[is_run] + run_len[is_run],
                        np.flatnonzero(np.diff(lens) != 0) + 1, [0]])  # fmt: skip
    b = np.unique(b[b < n])
    starts = np.append(b, n).astype(np.int64)
    tm = np.full(b.size, -1, np.int64)
    mark = np.isin(b, run_start[is_run])
    tm[mark] = ip[b[mark]]
    return starts, tm, ip[b].astype(np.int64), lens[b].astype(np.int64)


def outs(n: int, nchunks: int) -> tuple[np.ndarray, ...]:
    return (np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.bool_),
            np.zeros(nchunks, np.int64))  # fmt: skip


def flagged(out: tuple[np.ndarray, ...], off: np.ndarray) -> tuple[np.ndarray, ...]:
    rows, prev, rc, cnt = out
    idx = np.concatenate([np.arange(o, o + c) for o, c in zip(off, cnt, strict=True)])
    return rows[idx], prev[idx], rc[idx]


def measure(book: RiskBook, repeats: int, min_run: int, threads: list[int], max_len: int) -> None:
    a, t, n = book.arrays, book._tables, book.n_accounts
    warn = t.warn
    ip, codes, units, status0, order = seq_layout(book)
    pc = pieces(ip, codes, min_run, max_len)
    pc_start, pc_tmpl, pc_lo, pc_len = pc
    run_rows = int(np.diff(pc_start)[pc_tmpl >= 0].sum())
    run_entries = int((np.diff(pc_start) * pc_len)[pc_tmpl >= 0].sum())
    print(f"  pieces {pc_tmpl.size:,} ({int((pc_tmpl >= 0).sum()):,} runs of >= {min_run} rows);"
          f" rows in runs {run_rows / n:.1%}, entries in runs {run_entries / codes.size:.1%};"
          f" piece table {sum(x.nbytes for x in pc) / book.n_positions:.2f} B/pos")  # fmt: skip
    starts = np.arange(0, n, CHUNK_ROWS, dtype=np.int64)
    ends = np.minimum(starts + CHUNK_ROWS, n)
    off = np.cumsum(ends - starts) - (ends - starts)
    seg = per_entry(a.segment_starts())
    lens = np.diff(ip)
    seq_seg = np.concatenate([[0], np.flatnonzero(lens[1:] != lens[:-1]) + 1, [n]]).astype(np.int64)
    seq_pc = per_entry(seq_seg)
    rng = np.random.default_rng(7)
    # bit-identity on moved price sets
    for p in range(4):
        tab = t.tab * np.repeat(1 + rng.normal(0, 0.05 * (p + 1), t.tab.size // 2), 2)
        x0, y0, x1, y1 = (np.empty(n) for _ in range(4))
        all_sums(n, pc_start, pc_tmpl, pc_lo, pc_len, codes, units, tab, False, x0, y0)
        all_sums(n, pc_start, pc_tmpl, pc_lo, pc_len, codes, units, tab, True, x1, y1)
        assert np.array_equal(x0.view(np.uint64), x1.view(np.uint64))
        assert np.array_equal(y0.view(np.uint64), y1.view(np.uint64))
        st_lib, st_seq, st_run = book._status.copy(), status0.copy(), status0.copy()
        m_lib, m_seq, m_run = (np.empty(n, np.float32) for _ in range(3))
        o_lib, o_seq, o_run = (outs(n, starts.size) for _ in range(3))
        seg_k.reprice_segments(starts, ends, off, *seg, a.indptr, a.codes, a.units, tab, warn,
                               st_lib, m_lib, True, *o_lib)  # fmt: skip
        seg_k.reprice_segments(starts, ends, off, *seq_pc, ip, codes, units, tab, warn,
                               st_seq, m_seq, True, *o_seq)  # fmt: skip
        reprice_runs(starts, ends, off, *pc, codes, units, tab, warn, st_run, m_run, True, *o_run)
        assert np.array_equal(st_seq, st_run) and np.array_equal(st_lib[order], st_seq)
        assert np.array_equal(m_seq.view(np.uint32), m_run.view(np.uint32))
        assert np.array_equal(m_lib[order].view(np.uint32), m_seq.view(np.uint32))
        f_seq, f_run, f_lib = flagged(o_seq, off), flagged(o_run, off), flagged(o_lib, off)
        assert all(np.array_equal(u, v) for u, v in zip(f_seq, f_run, strict=True))
        lib_rows = np.sort(book._file_index[f_lib[0]])
        seq_rows = np.sort(book._file_index[order[f_seq[0]]])
        assert np.array_equal(lib_rows, seq_rows)
        print(f"  moved prices {p}: x, y bit-identical on {n:,} rows; {f_run[0].size:,} flagged,"
              " statuses and float32 margins equal")  # fmt: skip
    tab = t.tab
    st_lib, st_seq, st_run = book._status.copy(), status0.copy(), status0.copy()
    margin = np.empty(n, np.float32)
    bufs = [outs(n, starts.size) for _ in range(3)]
    entry_rows = np.repeat(pc_tmpl < 0, np.diff(pc_start))
    entry_codes = codes[np.repeat(entry_rows, lens)]
    ws_old = words([a.codes, a.units, book._status, seg[0]])
    ws_new = words([units, status0, *pc, entry_codes])
    old_b = sum(w.nbytes + tl.nbytes for w, tl in ws_old)
    new_b = sum(w.nbytes + tl.nbytes for w, tl in ws_new)
    for nt in threads:
        set_num_threads(nt)
        fns = {
            "read_old": lambda: vector_read(ws_old),
            "read_new": lambda: vector_read(ws_new),
            "lib": lambda: seg_k.reprice_segments(
                starts, ends, off, *seg, a.indptr, a.codes, a.units, tab, warn, st_lib, margin,
                False, *bufs[0]),
            "seq": lambda: seg_k.reprice_segments(
                starts, ends, off, *seq_pc, ip, codes, units, tab, warn, st_seq, margin,
                False, *bufs[1]),
            "runs": lambda: reprice_runs(
                starts, ends, off, *pc, codes, units, tab, warn, st_run, margin, False,
                *bufs[2]),
        }  # fmt: skip
        best = best_interleaved(fns, repeats)
        ms = {k: f"{v * 1e3:.2f} ms" for k, v in best.items()}
        print(f"  {get_num_threads()} thread(s), load {os.getloadavg()[0]:.2f}:")
        mib = 2**20
        print(
            f"    floor (a) old, today's kernel's bytes ({old_b / mib:.1f} MiB): {ms['read_old']}"
        )
        print(
            f"    floor (a) new, the run kernel's bytes ({new_b / mib:.1f} MiB): {ms['read_new']}"
        )
        for key, label in (("lib", "today's kernel, library layout"),
                           ("seq", "today's kernel, rows by code sequence"),
                           ("runs", "run kernel, rows by code sequence")):  # fmt: skip
            print(
                f"    {label}: {ms[key]} = {best[key] / best['read_old']:.2f}x (a) old, "
                f"{best[key] / best['read_new']:.2f}x (a) new"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--positions-per-account", nargs="+", default=["default", "4.8"])
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--min-run", type=int, default=128)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--max-len", type=int, default=MAX_RUN_LEN, help="longest rows in runs")
    ap.add_argument("--data", type=Path, default=ROOT / "out" / "bench-book")
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for per_arg in args.positions_per_account:
        per = None if per_arg == "default" else float(per_arg)
        files = book_files(args.accounts, 20, 1, args.data, per, False)
        book = RiskBook.load(files["parquet"])
        print(f"{book.n_accounts:,} accounts, {book.n_positions / book.n_accounts:.2f} "
              f"positions per account, {book.n_entries:,} entries")  # fmt: skip
        measure(book, args.repeats, args.min_run, args.threads, args.max_len)
        del book
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
