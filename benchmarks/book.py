"""Benchmark of the columnar risk book (issue 3): prints a table, asserts nothing.

Run ``.venv/bin/python benchmarks/book.py`` (defaults: 1,000,000 accounts x 20 assets,
seed 1; ``--accounts 50000`` for a quick look). The book is written once by
``xmargin.book.generate.generate_book`` into ``out/bench-book/`` (Parquet and CSV) and
reused. Every figure is measured in this run; each target is a ratio of two figures
measured side by side, so that the machine's speed cancels:

1. full re-price: every account re-priced after all assets move (``apply_prices`` on every
   asset, which re-prices the whole book), against the memory-read floor: one parallel
   pass that reads the book's index and value arrays (``indptr``, ``codes``, ``units``)
   and nothing else. Target <= 2x. Best of N, interleaved.
2. one-asset tick: the asset held by the share of accounts nearest 25%, moved by 0.1%;
   target <= 0.3x the full re-price.
3. a per-account Python loop (floats, same formulas, category rule and size haircut) over
   a 20,000-account sample, scaled to the book: target >= 500x slower than the full pass.
4. memory: every byte the book holds per position; target <= 32.
5. ``xmargin stress BOOK --shock WETH=-20% --summary --json`` end to end (a new process:
   start-up, load, price, summary) against a minimal pass in a new process that reads the
   same CSV with pyarrow and computes the same summary with NumPy; target <= 2x. The
   Parquet figure is reported beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

from xmargin.book import RiskBook
from xmargin.book.generate import generate_book

ROOT = Path(__file__).resolve().parents[1]
XMARGIN = ROOT / ".venv" / "bin" / "xmargin"
PYTHON = sys.executable

#: The minimal pass of target 5, run as its own process: pyarrow reads the CSV, NumPy
#: computes the stress summary (WETH -20%, category rule; the generated books have no
#: size haircut).
MINIMAL = r"""
import sys, tomllib
import numpy as np, pyarrow as pa, pyarrow.csv as pacsv, pyarrow.compute as pc
market, positions = sys.argv[1], sys.argv[2]
doc = tomllib.load(open(market, "rb"))
names = list(doc["assets"])
a = doc["assets"]
price = np.array([float(a[s]["price"]) for s in names])
price[names.index("WETH")] *= 0.8
lt = np.array([float(a[s]["liquidation_threshold"]) for s in names])
mbw = np.array([float(a[s].get("maintenance_borrow_weight", 1)) for s in names])
cats = doc.get("categories", {})
cat_names = list(cats)
lt_cat = np.tile(lt, (len(cat_names) + 1, 1))
for i, c in enumerate(cat_names):
    for s in cats[c]["assets"]:
        lt_cat[i, names.index(s)] = float(cats[c]["liquidation_threshold"])
t = pacsv.read_csv(positions)
acc = pc.dictionary_encode(t.column("account")).combine_chunks()
row = acc.indices.to_numpy()
n = len(acc.dictionary)
ai = pc.index_in(t.column("asset"), value_set=pa.array(names)).to_numpy()
ci = pc.index_in(t.column("category"), value_set=pa.array(cat_names)).fill_null(len(cat_names))
ci = ci.to_numpy()
s = t.column("supply").to_numpy()
b = t.column("borrow").to_numpy()
v_s = s * price[ai]
v_b = b * price[ai]
mc = np.bincount(row, v_s * lt_cat[ci, ai], minlength=n)
md = np.bincount(row, v_b * mbw[ai], minlength=n)
cv = np.bincount(row, v_s, minlength=n)
dv = np.bincount(row, v_b, minlength=n)
liq = (md > 0) & (mc < md)
print(n, int(liq.sum()), float(dv[liq].sum()), float(np.maximum(dv - cv, 0).sum()))
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def book_files(n: int, k: int, seed: int, folder: Path) -> dict[str, Path]:
    """The generated book, as Parquet and as CSV (written once, then reused)."""
    out: dict[str, Path] = {}
    for fmt in ("parquet", "csv"):
        d = folder / f"{n}x{k}-s{seed}-{fmt}"
        market = d / "market.toml"
        if not market.exists():
            t0 = time.perf_counter()
            generate_book(n, k, seed, d, fmt=fmt)
            print(f"  generated {market} in {time.perf_counter() - t0:.1f} s", flush=True)
        out[fmt] = market
    return out


def best_interleaved(fns: dict[str, object], repeats: int) -> dict[str, float]:
    best = dict.fromkeys(fns, math.inf)
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


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


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - t0, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--assets", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=60)
    ap.add_argument("--cli-repeats", type=int, default=3)
    ap.add_argument("--data", type=Path, default=ROOT / "out" / "bench-book")
    args = ap.parse_args()

    print(f"risk book benchmark, {dt.date.today().isoformat()}, {machine()}")
    files = book_files(args.accounts, args.assets, args.seed, args.data)
    rows: list[tuple[str, str, str]] = []

    t0 = time.perf_counter()
    book = RiskBook.load(files["parquet"])
    load_s = time.perf_counter() - t0
    n, npos = book.n_accounts, book.n_positions

    def add(name: str, value: str, note: str = "") -> None:
        rows.append((name, value, note))

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    add(
        "book",
        f"{n:,} accounts, {npos:,} positions, {book.n_entries:,} entries, "
        f"{len(book.assets)} assets, backend {book.backend}",
    )
    add("load (Parquet, clustered, first pricing)", f"{load_s:.2f} s")

    # 1 and 2: full re-price, floor, one-asset tick, interleaved
    base = book.prices
    up = {a: p * Decimal("1.001") for a, p in base.items()}
    flip = [up, base]
    state = {"full": 0, "tick": 0}
    runs = book.asset_runs()
    holders = {a: runs.rows(i) / n for i, a in enumerate(book.assets)}
    tick_asset = min(holders, key=lambda a: abs(holders[a] - 0.25))
    # the tick moves its asset by 0.05% from wherever the full re-prices left it
    step = [Decimal("1.0005"), 1 / Decimal("1.0005")]
    ia = book.assets.index(tick_asset)
    indptr = book.arrays.indptr
    ents = int(
        sum(indptr[e] - indptr[s] for s, e in zip(runs.starts[ia], runs.ends[ia], strict=True))
    )

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
    best = best_interleaved({"floor": book.read_floor, "full": full, "tick": tick}, args.repeats)
    best.update(best_interleaved({"reprice": book.reprice}, max(args.repeats // 4, 1)))
    book.apply_prices(base, guard=False)
    a = book.arrays
    t0 = time.perf_counter()
    for arr in (a.indptr, a.codes, a.units):
        float(arr.sum())
    numpy_floor = time.perf_counter() - t0
    ratio_full = best["full"] / best["floor"]
    ratio_tick = best["tick"] / best["full"]
    add(
        "memory-read floor (indptr, codes, units; parallel)",
        f"{best['floor'] * 1e3:.2f} ms",
        f"NumPy sums of the same arrays, one thread: {numpy_floor * 1e3:.2f} ms",
    )
    add(
        "full re-price (all assets move)",
        f"{best['full'] * 1e3:.2f} ms",
        f"{ratio_full:.2f}x floor (target <= 2x): {verdict(ratio_full <= 2)}",
    )
    add(
        "  full pass at unchanged prices (reprice())",
        f"{best['reprice'] * 1e3:.2f} ms",
        f"{best['reprice'] / best['floor']:.2f}x floor",
    )
    add(
        f"one-asset tick ({tick_asset}: {holders[tick_asset]:.1%} of accounts, "
        f"{ents / book.n_entries:.1%} of entries)",
        f"{best['tick'] * 1e3:.2f} ms",
        f"{ratio_tick:.2f}x full (target <= 0.3x): {verdict(ratio_tick <= 0.3)}",
    )

    # 4: memory
    mem = book.memory_bytes()
    total = sum(mem.values())
    bpp = total / npos
    add(
        "memory held by the book",
        f"{total / 2**20:.1f} MiB",
        f"{bpp:.1f} B/position (target <= 32): {verdict(bpp <= 32)}",
    )
    add(
        "  of which per entry (codes, units)",
        f"{(mem['codes'] + mem['units']) / book.n_entries:.1f} B/entry",
        ", ".join(f"{k} {v / 2**20:.1f}" for k, v in mem.items() if v) + " MiB",
    )

    # 3: per-account Python loop
    loop_s = python_loop_seconds(book, args.sample, np.random.default_rng(args.seed))
    m = min(args.sample, n)
    scaled = loop_s * n / m
    speedup = scaled / best["full"]
    add(
        f"per-account Python loop, floats ({m:,} accounts, scaled to {n:,})",
        f"{loop_s:.3f} s -> {scaled:.1f} s",
        f"the full re-price is {speedup:,.0f}x faster (target >= 500x): {verdict(speedup >= 500)}",
    )
    m2 = min(2_000, n)
    exact_s = exact_loop_seconds(book, m2, np.random.default_rng(args.seed + 1))
    add(
        f"  exact engine per account, Decimal ({m2:,} accounts, scaled)",
        f"{exact_s:.3f} s -> {exact_s * n / m2:.1f} s",
        f"the full re-price is {exact_s * n / m2 / best['full']:,.0f}x faster",
    )

    # 5: stress --summary end to end, against the minimal pass
    env = {k: v for k, v in os.environ.items() if k not in ("XMARGIN_ENGINE", "XMARGIN_BACKEND")}
    cli: dict[str, float] = {}
    minimal = math.inf
    outputs: dict[str, str] = {}
    csv_positions = files["csv"].parent / "positions.csv"
    for _ in range(args.cli_repeats):
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
    ratio_cli = cli["csv"] / minimal
    add(
        "minimal pass (pyarrow CSV + NumPy summary, new process)",
        f"{minimal:.2f} s",
        f"{liq_min} liquidatable ({'as' if same else 'DIFFERENT FROM'} the CLI)",
    )
    add(
        "xmargin stress --summary, CSV (new process)",
        f"{cli['csv']:.2f} s",
        f"{ratio_cli:.2f}x minimal (target <= 2x): {verdict(ratio_cli <= 2)}",
    )
    lib = (
        "import sys; from decimal import Decimal; "
        "from xmargin.cli.book_commands import book_stress; from pathlib import Path; "
        "book_stress(Path(sys.argv[1]), {'WETH': Decimal('-0.2')}, True, True)"
    )
    lib_s = min(
        run([PYTHON, "-c", lib, str(files["csv"])], env)[0] for _ in range(args.cli_repeats)
    )
    add(
        "  the same work without the CLI (book_stress in a new process)",
        f"{lib_s:.2f} s",
        f"{lib_s / minimal:.2f}x minimal: the rest is the CLI's start-up",
    )
    add(
        "xmargin stress --summary, Parquet (new process)",
        f"{cli['parquet']:.2f} s",
        f"{cli['parquet'] / minimal:.2f}x the CSV minimal pass",
    )

    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print()
    print(f"| {'figure'.ljust(width)} | {'value'.ljust(vwidth)} | ratio / note |")
    print(f"|{'-' * (width + 2)}|{'-' * (vwidth + 2)}|--------------|")
    for name, value, note in rows:
        print(f"| {name.ljust(width)} | {value.ljust(vwidth)} | {note} |")


if __name__ == "__main__":
    main()
