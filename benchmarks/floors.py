"""Floors and helpers of the book benchmarks (issue 11): a vectorized read of exactly
the bytes a kernel reads, a STREAM-style copy bandwidth, interleaved best-of-N timing, the
layouts "before" (the previous row order; no run pieces) measured beside the library's,
the machine's description, a timed subprocess, and, for scale, a per-account Python float
loop and the exact Decimal engine."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from xmargin.book import RiskBook


def per_entry(seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of the segment kernel with no run: every entry's price looked up."""
    return seg, np.full(seg.size - 1, -1, dtype=np.int64)


def best_interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    best = dict.fromkeys(fns, math.inf)
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def words(arrays: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each array's bytes as 64-bit words plus its tail bytes (for :func:`vector_read`)."""
    out = []
    for arr in arrays:
        b = np.ascontiguousarray(arr).view(np.uint8)
        cut = b.size // 8 * 8
        out.append((b[:cut].view(np.uint64), b[cut:]))
    return out


def vector_read(ws: list[tuple[np.ndarray, np.ndarray]]) -> int:
    """Read every byte once, vectorized (NumPy's wrapping uint64 sum, one thread)."""
    total = 0
    for w, tail in ws:
        total += int(np.add.reduce(w)) + int(tail.sum())
    return total


def stream_copy_bandwidth(repeats: int = 10, mib: int = 64) -> float:
    """Bytes per second of a STREAM-style copy (read + write counted, as STREAM does)."""
    src = np.ones(mib * 2**20 // 8)
    dst = np.empty_like(src)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return 2 * src.nbytes / best


def cache_sample(
    starts: np.ndarray, ends: np.ndarray, row_bytes: float, budget: int = 2**20
) -> tuple[np.ndarray, np.ndarray]:
    """Chunks ``[starts[i], ends[i])`` spread evenly over the book whose kernel bytes fit
    ``budget`` (so that they stay in the core's L2 cache between repeats). The kernel's
    time per row on them is its compute cost without the memory it streams."""
    rows_per_chunk = float(np.mean(ends - starts))
    m = max(1, min(starts.size, int(budget / row_bytes / rows_per_chunk)))
    pick = np.unique(np.linspace(0, starts.size - 1, m).round().astype(np.int64))
    return starts[pick], ends[pick]


def take_rows(arr: np.ndarray, indptr: np.ndarray, rows: np.ndarray, entries: bool) -> np.ndarray:
    """``arr``'s values of ``rows`` (per entry of those rows, or per row), copied out
    contiguous (for :func:`vector_read` of a sample)."""
    if not entries:
        return arr[rows]
    lens = np.diff(indptr)[rows]
    first = np.repeat(indptr[rows] - (np.cumsum(lens) - lens), lens)
    return arr[first + np.arange(int(lens.sum()))]


Row = tuple[str, str, str]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def set_order(book: RiskBook) -> tuple[np.ndarray, ...]:
    """The book's rows in the previous clustering (by asset set only, ties in file order,
    as ``build._cluster_order`` did before rows were grouped by length): (indptr, codes,
    units, status, segment starts), for the "before" layout of the same kernel."""
    a, n, k = book.arrays, book.n_accounts, len(book.assets)
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(a.indptr))
    asset = (a.codes.astype(np.int64) % (2 * k)) >> 1
    pop = np.bincount(asset, minlength=k)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-pop, kind="stable")] = np.arange(k)
    bits = np.where(rank < 64, np.left_shift(np.uint64(1), (63 - rank).astype(np.uint64)), 0)
    sig = np.zeros(n, dtype=np.uint64)
    np.bitwise_or.at(sig, row, bits[asset].astype(np.uint64))
    order = np.lexsort((book._file_index, ~sig))
    lens = np.diff(a.indptr).astype(np.int64)[order]
    ip = np.zeros(n + 1, dtype=a.indptr.dtype)
    np.cumsum(lens, out=ip[1:])
    src = np.repeat(a.indptr[:-1][order].astype(np.int64) - ip[:-1], lens) + np.arange(ip[-1])
    change = np.flatnonzero(lens[1:] != lens[:-1]) + 1
    seg = np.concatenate([[0], change, [n]]).astype(np.int64)
    return ip, a.codes[src], a.units[src], book._status[order].copy(), seg


def python_loop_seconds(book: RiskBook, sample: int, rng: np.random.Generator) -> float:
    """Seconds for a straightforward per-account Python loop over ``sample`` accounts.

    The shape most liquidation bots run: each account a dict of balances by asset symbol,
    one call per account that applies the category rule and the size haircut with float
    arithmetic and returns its status.
    """
    market = book.market() if book.n_accounts <= sample else None
    if market is None:
        rows = np.sort(rng.choice(book.n_accounts, size=sample, replace=False))
        ids = [book.account_at(int(r)) for r in rows]
        accounts = [book.exact_account(i) for i in ids]
    else:
        accounts = list(market.accounts.values())
    params = {
        s: {
            "price": float(p.price),
            "cf": float(p.collateral_factor),
            "lt": float(p.liquidation_threshold),
            "mbw": float(p.maintenance_borrow_weight),
            "k": float(p.size_factor),
        }
        for s, p in book.exact_market().assets.items()
    }
    cats = {
        name: {"lt": float(c.liquidation_threshold), "assets": set(c.assets)}
        for name, c in book.exact_market().categories.items()
    }
    bots = [
        {
            "category": acc.category,
            "supply": {a: float(v) for a, v in acc.supply.items()},
            "borrow": {a: float(v) for a, v in acc.borrow.items()},
        }
        for acc in accounts
    ]
    warn = float(book.warning_level)

    def status(acc: dict[str, object]) -> int:
        cat = cats.get(acc["category"]) if acc["category"] else None  # type: ignore[arg-type]
        mc = md = 0.0
        for asset, units in acc["supply"].items():  # type: ignore[attr-defined]
            p = params[asset]
            lt = cat["lt"] if cat and asset in cat["assets"] else p["lt"]
            if p["k"]:
                lt = min(lt, 1.1 / (1 + p["k"] * math.sqrt(units)))
            mc += units * p["price"] * lt
        for asset, units in acc["borrow"].items():  # type: ignore[attr-defined]
            p = params[asset]
            w = p["mbw"]
            if p["k"]:
                w = max(w, 0.8 * w + p["k"] * math.sqrt(units))
            md += units * p["price"] * w
        if md > 0 and mc < md:
            return 2
        return 1 if md > 0 and mc < warn * md else 0

    t0 = time.perf_counter()
    for acc in bots:
        status(acc)
    return time.perf_counter() - t0


def exact_loop_seconds(book: RiskBook, sample: int, rng: np.random.Generator) -> float:
    """Seconds for the exact Decimal engine (``account_health``) over ``sample`` accounts."""
    from xmargin.risk.health import account_health

    rows = np.sort(rng.choice(book.n_accounts, size=min(sample, book.n_accounts), replace=False))
    accounts = [book.exact_account(book.account_at(int(r))) for r in rows]
    market = book.exact_market()
    t0 = time.perf_counter()
    for acc in accounts:
        account_health(acc, market)
    return time.perf_counter() - t0


def machine() -> str:
    """The CPU, its core count and the Python version, for a benchmark's heading."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Seconds a new process takes to run ``cmd``, and what it printed."""
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - t0, out.stdout
