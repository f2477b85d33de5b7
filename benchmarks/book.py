"""Benchmark of the columnar risk book (issues 3 and 11): prints tables, asserts nothing.

Run ``.venv/bin/python benchmarks/book.py`` (defaults: 1,000,000 accounts x 20 assets,
seed 1, two books: the generator's ~2.5 positions per account and ``--positions-per-account
4.8``, which draws ~4.5; ``--accounts 50000`` for a quick look). Books are written once by
``xmargin.book.generate.generate_book`` into ``out/bench-book/`` and reused. Every figure
is measured in this run; each target is a ratio of figures measured side by side
(interleaved, best of N), so that the machine's speed cancels:

1. floors: (a) a vectorized read of exactly the bytes the full re-price kernel must read
   (its arrays viewed as 64-bit words and summed by NumPy, one thread), and (b) those
   bytes / memory bandwidth, measured here by a STREAM-style copy of 64 MiB arrays
   (bytes read + written / time). In runs of rows with one code sequence the kernel
   reads no code (``BookArrays.run_pieces``), so (a) counts only the codes outside runs;
   "(a) old" is the read of every code, the floor before runs, printed beside it.
2. full re-price kernel (every account, the library's call) against both floors, with
   1 and 2 Numba threads (``--threads``): targets <= 1.0x (a) and <= 2x (b); beside it
   its first pass alone (the sums, before any decision: ``kernel_passes.py``), the
   same kernel on the previous row order (rows clustered by asset set only, not
   first by length: "before", rebuilt from the book in this run), the row-by-row kernel,
   and ``apply_prices`` on every asset end to end (oracle checks, exact prices, tables,
   kernel, events). For the kernel's compute cost apart from the memory it streams: the
   same kernel on a sample of chunks spread over the book whose bytes stay in the core's
   L2 cache (about 1 MiB), per row, beside the read of the sample's bytes.
3. one-asset tick: the asset held by the share of accounts nearest 25%, moved by 0.05%;
   target <= 0.2x the full ``apply_prices``.
4. memory: every byte the book holds per position; target <= 16.
5. for scale, not a target: a per-account Python float loop and the exact Decimal engine,
   scaled to the book.
6. ``xmargin stress BOOK --shock WETH=-20% --summary --json`` end to end (a new process)
   against a minimal pyarrow + NumPy pass in a new process (first book only;
   ``--cli-repeats 0`` skips it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np

from xmargin.book import RiskBook
from xmargin.book.build import CHUNK_ROWS
from xmargin.book.generate import generate_book
from xmargin.book.kernels import RECOMPUTE

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from floors import (  # noqa: E402
    Row,
    best_interleaved,
    cache_sample,
    exact_loop_seconds,
    machine,
    per_entry,
    python_loop_seconds,
    run,
    set_order,
    stream_copy_bandwidth,
    take_rows,
    vector_read,
    verdict,
    words,
)
from kernel_passes import check_sums, sums_pass  # noqa: E402
from minimal_stress import MINIMAL  # noqa: E402

XMARGIN = ROOT / ".venv" / "bin" / "xmargin"
REPEAT = 8  # passes over the cache-resident sample per timed call
PYTHON = sys.executable


def book_files(
    n: int, k: int, seed: int, folder: Path, per: float | None, csv: bool
) -> dict[str, Path]:
    """The generated book, as Parquet (and CSV): written once, then reused."""
    out: dict[str, Path] = {}
    tag = "" if per is None else f"-p{per}"
    for fmt in ("parquet", "csv") if csv else ("parquet",):
        d = folder / f"{n}x{k}-s{seed}{tag}-{fmt}"
        market = d / "market.toml"
        if not market.exists():
            t0 = time.perf_counter()
            generate_book(n, k, seed, d, fmt=fmt, positions_per_account=per)
            print(f"  generated {market} in {time.perf_counter() - t0:.1f} s", flush=True)
        out[fmt] = market
    return out


def kernel_rows(book: RiskBook, bandwidth: float, repeats: int, threads: list[int]) -> list[Row]:
    """Figures 1 to 4 of the module docstring for one loaded book."""
    import numba

    from xmargin.book import _numba_kernels as row_kernels
    from xmargin.book import _numba_segments as seg_kernels

    rows: list[Row] = []
    n, a, t, k = book.n_accounts, book.arrays, book._tables, book._k
    status, ref = book._status, book._ref
    starts = np.arange(0, n, CHUNK_ROWS, dtype=np.int64)
    ends = np.minimum(starts + CHUNK_ROWS, n)
    off = np.cumsum(ends - starts) - (ends - starts)

    def outs() -> tuple[np.ndarray, ...]:
        return (np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.bool_),
                np.zeros(starts.size, np.int64))  # fmt: skip

    out_rows, out_old, out_pe = outs(), outs(), outs()
    seg = a.segment_starts()
    pc_start, pc_tmpl = a.run_pieces()
    old_ip, old_codes, old_units, old_status, old_seg = set_order(book)
    # the kernel reads units, status, the piece table, the codes of rows outside runs
    # (and each run's template: its first row's codes) and two indptr words per piece
    # and per block; the codes it reads are copied out so that NumPy reads as many
    in_run = np.repeat(pc_tmpl >= 0, np.diff(pc_start))
    lens = np.diff(a.indptr)
    read_codes = a.codes[np.repeat(~in_run, lens)]
    run_codes = int(lens[pc_start[:-1][pc_tmpl >= 0]].sum()) * a.codes.itemsize
    visits = pc_tmpl.size + n // 128
    must_read = (a.units.nbytes + status.nbytes + pc_start.nbytes + pc_tmpl.nbytes
                 + read_codes.nbytes + run_codes + 16 * visits)  # fmt: skip
    ws = words([a.units, status, pc_start, pc_tmpl, read_codes])
    # what the kernel read before runs (every code; segment starts), the old floor (a)
    blocks = seg.size - 1 + n // 128
    old_read = a.codes.nbytes + a.units.nbytes + status.nbytes + seg.nbytes + 16 * blocks
    ws_old = words([a.codes, a.units, status, seg])
    before_read = a.indptr.nbytes + a.codes.nbytes + a.units.nbytes + status.nbytes
    ws_before = words([a.indptr, a.codes, a.units, status])
    no_runs = per_entry(seg)
    status_pe = status.copy()

    pieces = (pc_start, pc_tmpl)
    status_run = status.copy()
    out_run = outs()

    def run_kernel() -> None:
        seg_kernels.reprice_segments(  # type: ignore[no-untyped-call]
            starts, ends, off, *pieces, a.indptr, a.codes, a.units, t.tab, t.warn,
            status_run, ref.margin, False, *out_run,
        )  # fmt: skip

    # the kernel's first pass (its sums) alone, checked once against NumPy's sums
    check_sums(starts, ends, pieces, a.indptr, a.codes, a.units, t.tab)
    sink, no_out = np.zeros(starts.size), np.empty(0)

    def first_pass() -> None:
        sums_pass(starts, ends, *pieces, a.indptr, a.codes, a.units, t.tab, False, no_out,
                  no_out, sink)  # fmt: skip

    # a cache-resident sample: chunks spread over the book, the same kernel and pieces,
    # each call going over the sample REPEAT times (so that a call's start-up is shared)
    c_starts, c_ends = cache_sample(starts, ends, must_read / n)
    c_rows = np.concatenate([np.arange(x, y) for x, y in zip(c_starts, c_ends, strict=True)])
    c_n = c_rows.size
    sample_bytes = np.concatenate(
        [take_rows(a.units, a.indptr, c_rows, True).view(np.uint8), status[c_rows],
         take_rows(a.codes, a.indptr, c_rows[~in_run[c_rows]], True)]
    )  # fmt: skip
    ws_cached = words([sample_bytes])
    c_starts, c_ends = np.tile(c_starts, REPEAT), np.tile(c_ends, REPEAT)
    c_off = np.cumsum(c_ends - c_starts) - (c_ends - c_starts)
    status_c = status.copy()
    out_c = (np.empty(REPEAT * c_n, np.int64), np.empty(REPEAT * c_n, np.uint8),
             np.empty(REPEAT * c_n, np.bool_), np.zeros(c_starts.size, np.int64))  # fmt: skip

    def read_cached() -> None:
        for _ in range(REPEAT):
            vector_read(ws_cached)

    def cached_kernel() -> None:
        seg_kernels.reprice_segments(  # type: ignore[no-untyped-call]
            c_starts, c_ends, c_off, *pieces, a.indptr, a.codes, a.units, t.tab, t.warn,
            status_c, ref.margin, False, *out_c,
        )  # fmt: skip

    def per_entry_kernel() -> None:
        seg_kernels.reprice_segments(  # type: ignore[no-untyped-call]
            starts, ends, off, *no_runs, a.indptr, a.codes, a.units, t.tab, t.warn,
            status_pe, ref.margin, False, *out_pe,
        )  # fmt: skip

    def after() -> None:
        k.reprice(starts, ends, a, t, status, ref, RECOMPUTE, book._slow)

    def old_layout() -> None:
        seg_kernels.reprice_segments(  # type: ignore[no-untyped-call]
            starts, ends, off, *per_entry(old_seg), old_ip, old_codes, old_units, t.tab, t.warn,
            old_status, ref.margin, False, *out_old,
        )  # fmt: skip

    def before() -> None:
        row_kernels.reprice_fast(  # type: ignore[no-untyped-call]
            starts, ends, off, a.indptr, a.codes, a.units, t.tab, t.warn, status, *out_rows
        )

    base = book.prices
    flip = [{s: p * Decimal("1.001") for s, p in base.items()}, base]
    state = {"full": 0, "tick": 0}
    runs = book.asset_runs()
    holders = {s: runs.rows(i) / n for i, s in enumerate(book.assets)}
    tick_asset = min(holders, key=lambda s: abs(holders[s] - 0.25))
    step = [Decimal("1.0005"), 1 / Decimal("1.0005")]

    def full() -> None:
        update = book.apply_prices(flip[state["full"] % 2], guard=False)
        assert update.repriced_accounts == n
        state["full"] += 1

    def tick() -> None:
        price = book.prices[tick_asset] * step[state["tick"] % 2]
        update = book.apply_prices({tick_asset: price}, guard=False)
        assert 0 < update.repriced_accounts < n
        state["tick"] += 1

    book.apply_prices(base, guard=False)
    vread = vector_read(ws)
    mib = 2**20
    floor_bw = must_read / bandwidth
    rows.append(
        (
            "(b) the kernel's bytes / copy bandwidth",
            f"{floor_bw * 1e3:.2f} ms",
            f"{must_read / mib:.1f} MiB: units, status, pieces, codes outside runs "
            f"({read_codes.size / a.codes.size:.0%} of them); "
            f"STREAM-style copy: {bandwidth / 1e9:.1f} GB/s",
        )
    )
    rows.append(
        (
            "  rows in runs (one code sequence, >= 128 rows)",
            f"{in_run.mean():.1%}",
            f"{int((pc_tmpl >= 0).sum()):,} runs in {pc_tmpl.size:,} pieces; old (b): "
            f"{old_read / bandwidth * 1e3:.2f} ms ({old_read / mib:.1f} MiB, every code)",
        )
    )
    default_threads = numba.get_num_threads()
    best: dict[str, float] = {}
    for nt in threads:
        numba.set_num_threads(min(nt, numba.config.NUMBA_NUM_THREADS))
        fns: dict[str, Callable[[], object]] = {
            "read": lambda: vector_read(ws),
            "read_old": lambda: vector_read(ws_old),
            "read_before": lambda: vector_read(ws_before),
            "after": after,
            "per_entry": per_entry_kernel,
            "runs": run_kernel,
            "sums": first_pass,
            "old_layout": old_layout,
            "cached": cached_kernel,
            "read_cached": read_cached,
            "before": before,
        }
        best = best_interleaved(fns, repeats)
        r_read = best["after"] / best["read"]
        r_bw = best["after"] / floor_bw
        tag = f"{numba.get_num_threads()} thread{'s' if numba.get_num_threads() > 1 else ''}"
        rows += [
            ("(a) vectorized read of the kernel's bytes (NumPy, 1 thread)",
             f"{best['read'] * 1e3:.2f} ms", f"measured beside the {tag} kernels below"),
            ("(a) old: vectorized read of every code, units, status (the floor before runs)",
             f"{best['read_old'] * 1e3:.2f} ms", "measured beside the same kernels"),
            (f"full re-price kernel, {tag} (runs priced once; after)",
             f"{best['after'] * 1e3:.2f} ms",
             f"{r_read:.2f}x (a) (target <= 1.0x): {verdict(r_read <= 1.0)}; "
             f"{r_bw:.2f}x (b) (target <= 2x): {verdict(r_bw <= 2.0)}; "
             f"{best['after'] / best['read_old']:.2f}x (a) old"),
            (f"  the kernel alone (runs; no library call), {tag}",
             f"{best['runs'] * 1e3:.2f} ms",
             f"{best['runs'] / best['read']:.2f}x (a), "
             f"{best['runs'] / best['read_old']:.2f}x (a) old"),
            (f"  its first pass alone (the sums; no decision), {tag}",
             f"{best['sums'] * 1e3:.2f} ms",
             f"{best['sums'] / best['read']:.2f}x (a): the book read and priced, before "
             f"any decision; the decisions add {(best['runs'] - best['sums']) * 1e3:.2f} ms"),
            (f"  same kernel alone, every price looked up (no runs; before), {tag}",
             f"{best['per_entry'] * 1e3:.2f} ms",
             f"{best['per_entry'] / best['read']:.2f}x (a), "
             f"{best['per_entry'] / best['read_old']:.2f}x (a) old; "
             f"runs / no runs = {best['runs'] / best['per_entry']:.2f}"),
            (f"  the kernel alone on {c_n:,} rows that stay in cache, {tag}",
             f"{best['cached'] / c_n / REPEAT * 1e9:.2f} ns/row",
             f"whole book {best['runs'] / n * 1e9:.2f} ns/row; the read of the sample's "
             f"bytes {best['read_cached'] / c_n / REPEAT * 1e9:.2f} ns/row, of the book's "
             f"{best['read'] / n * 1e9:.2f}"),
            (f"  same kernel, rows by asset set only (before), {tag}",
             f"{best['old_layout'] * 1e3:.2f} ms",
             f"{best['old_layout'] / best['read']:.2f}x (a), {best['old_layout'] / floor_bw:.2f}x"
             f" (b); {old_seg.size - 1:,} segments (now {seg.size - 1:,}); "
             f"after / before = {best['after'] / best['old_layout']:.2f}"),
            (f"  row-by-row kernel, {tag}", f"{best['before'] * 1e3:.2f} ms",
             f"{best['before'] / best['read']:.2f}x (a); reads {before_read / mib:.1f} MiB, "
             f"whose vectorized read is {best['read_before'] * 1e3:.2f} ms"),
        ]  # fmt: skip
    numba.set_num_threads(default_threads)
    best.update(best_interleaved({"full": full, "tick": tick}, repeats))
    book.apply_prices(base, guard=False)
    assert vread == vector_read(ws)
    rows.append(
        (
            f"full re-price, apply_prices on every asset ({default_threads} threads)",
            f"{best['full'] * 1e3:.2f} ms",
            f"{best['full'] / best['read']:.2f}x (a), {best['full'] / floor_bw:.2f}x (b)",
        )
    )
    ratio_tick = best["tick"] / best["full"]
    rows.append(
        (
            f"one-asset tick ({tick_asset}: {holders[tick_asset]:.1%} of accounts)",
            f"{best['tick'] * 1e3:.2f} ms",
            f"{ratio_tick:.2f}x full (target <= 0.2x): {verdict(ratio_tick <= 0.2)}",
        )
    )
    mem = book.memory_bytes()
    total = sum(mem.values())
    bpp = total / book.n_positions
    rows.append(
        (
            "memory held by the book",
            f"{total / mib:.1f} MiB",
            f"{bpp:.1f} B/position (target <= 16): {verdict(bpp <= 16)}; "
            + ", ".join(f"{k} {v / book.n_positions:.1f}" for k, v in mem.items() if v),
        )
    )
    return rows


def scale_rows(book: RiskBook, full_s: float, sample: int, seed: int) -> list[Row]:
    """Figure 5: slower engines, for scale."""
    loop_s = python_loop_seconds(book, sample, np.random.default_rng(seed))
    n = book.n_accounts
    m = min(sample, n)
    m2 = min(2_000, n)
    exact_s = exact_loop_seconds(book, m2, np.random.default_rng(seed + 1))
    return [
        (f"per-account Python float loop ({m:,} accounts, scaled)",
         f"{loop_s * n / m:.2f} s", f"{loop_s / m * 1e6:.2f} us/account; "
         f"{loop_s * n / m / full_s:,.0f}x the full re-price"),
        (f"exact Decimal engine per account ({m2:,}, scaled)", f"{exact_s * n / m2:.1f} s",
         f"{exact_s / m2 * 1e6:.1f} us/account"),
    ]  # fmt: skip


def cli_rows(files: dict[str, Path], repeats: int) -> list[Row]:
    """Figure 6: ``stress --summary`` in a new process against the minimal pass."""
    env = {k: v for k, v in os.environ.items() if k not in ("XMARGIN_ENGINE", "XMARGIN_BACKEND")}
    cli: dict[str, float] = {}
    minimal = math.inf
    outputs: dict[str, str] = {}
    csv_positions = files["csv"].parent / "positions.csv"
    for _ in range(repeats):
        for fmt in ("csv", "parquet"):
            cmd = [str(XMARGIN), "stress", str(files[fmt]), "--shock", "WETH=-20%"]
            s, out = run([*cmd, "--summary", "--json"], env)
            cli[fmt] = min(cli.get(fmt, math.inf), s)
            outputs[fmt] = out
        s, out = run([PYTHON, "-c", MINIMAL, str(files["csv"]), str(csv_positions)], env)
        minimal = min(minimal, s)
        outputs["minimal"] = out
    got = json.loads(outputs["csv"])["summary"]
    n_min, liq_min, _, _ = outputs["minimal"].split()
    same = int(n_min) == got["accounts"] and int(liq_min) == got["liquidatable_accounts"]
    ratio = cli["csv"] / minimal
    return [
        ("minimal pass (pyarrow CSV + NumPy, new process)", f"{minimal:.2f} s",
         f"{liq_min} liquidatable ({'as' if same else 'DIFFERENT FROM'} the CLI)"),
        ("xmargin stress --summary, CSV (new process)", f"{cli['csv']:.2f} s",
         f"{ratio:.2f}x minimal (target <= 2x): {verdict(ratio <= 2)}"),
        ("xmargin stress --summary, Parquet (new process)", f"{cli['parquet']:.2f} s",
         f"{cli['parquet'] / minimal:.2f}x the CSV minimal pass"),
    ]  # fmt: skip


def print_table(title: str, rows: list[Row]) -> None:
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"\n{title}\n")
    print(f"| {'figure'.ljust(width)} | {'value'.ljust(vwidth)} | ratio / note |")
    print(f"|{'-' * (width + 2)}|{'-' * (vwidth + 2)}|--------------|")
    for name, value, note in rows:
        print(f"| {name.ljust(width)} | {value.ljust(vwidth)} | {note} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--assets", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--positions-per-account", nargs="+", default=["default", "4.8"],
        help="one book per value: the generator's mean ('default', ~2.5) or a number",
    )  # fmt: skip
    ap.add_argument("--sample", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2],
        help="Numba threads for the kernel figures (each count measured in turn)",
    )  # fmt: skip
    ap.add_argument("--cli-repeats", type=int, default=2)
    ap.add_argument("--data", type=Path, default=ROOT / "out" / "bench-book")
    args = ap.parse_args()

    print(f"risk book benchmark, {dt.date.today().isoformat()}, {machine()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bandwidth = stream_copy_bandwidth()
    for i, per_arg in enumerate(args.positions_per_account):
        per = None if per_arg == "default" else float(per_arg)
        cli = i == 0 and args.cli_repeats > 0
        files = book_files(args.accounts, args.assets, args.seed, args.data, per, cli)
        t0 = time.perf_counter()
        book = RiskBook.load(files["parquet"])
        load_s = time.perf_counter() - t0
        n, npos = book.n_accounts, book.n_positions
        rows: list[Row] = [
            ("load (Parquet, clustered, first pricing)", f"{load_s:.2f} s", ""),
        ]
        rows += kernel_rows(book, bandwidth, args.repeats, args.threads)
        full_s = float(rows[-3][1].split()[0]) / 1e3
        rows += scale_rows(book, full_s, args.sample, args.seed)
        if cli:
            rows += cli_rows(files, args.cli_repeats)
        title = (
            f"{n:,} accounts x {len(book.assets)} assets, {npos:,} positions "
            f"({npos / n:.2f} per account), {book.n_entries:,} entries, backend {book.backend}"
        )
        print_table(title, rows)
        del book
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
