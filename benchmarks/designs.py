"""Benchmark of the liquidation designs in the cascade (``simulate compare``, contract 8.6).

Run with ``.venv/bin/python benchmarks/designs.py`` (a minute) or with other
``--accounts/--paths/--steps``. Prints a table of figures measured in this run; asserts
nothing about time.

1. Book: ``generate_book(accounts, assets)`` (Aave-like parameters), read by
   ``load_simbook``, with depth-curve liquidity for every asset (as
   ``benchmarks/simulate.py``: 2% of the book's supply of an asset sells within 1%).
2. Paths: every volatile asset falls 30% over 6 steps of 10 minutes and holds, with 70%
   annual noise, ``--paths`` paths of ``--steps`` steps.
3. The cascade's own close-factor kernels (the package's backend, and NumPy's) against
   the design step under ``fixed`` (NumPy lanes, the same liquidations:
   ``tests/analytics/test_cascade_designs.py`` CD-1), then every design: seconds and the
   ratio to the kernels, measured in this run (warm: a first small run is timed apart).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from simulate import depth_liquidity  # type: ignore[import-not-found]
from xmargin.analytics.cascade.designs import DesignStep
from xmargin.analytics.cascade.engine import PathEngine
from xmargin.analytics.design_compare import DESIGNS, cascade_design, shock_paths
from xmargin.analytics.simbook import load_simbook
from xmargin.book.generate import generate_book
from xmargin.fast.backend import process_backend

STABLE = {"USDC", "USDT", "DAI"}


def row(name: str, value: str, note: str = "") -> None:
    print(f"| {name:<36} | {value:>12} | {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--assets", type=int, default=12)
    ap.add_argument("--paths", type=int, default=32)
    ap.add_argument("--steps", type=int, default=36)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, numpy {np.__version__}, backend {process_backend()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        market_file, _ = generate_book(args.accounts, args.assets, args.seed, Path(tmp))
        book, market = load_simbook(market_file)
    liquidity = depth_liquidity(market, book)
    shocks = {a: -0.3 for a in book.assets if a not in STABLE}
    vols = {a: 0.7 for a in shocks}
    paths = shock_paths(book, shocks, 6, args.steps, args.paths, args.seed, vols, 1 / 6)

    def run(name: str | None, exo: np.ndarray, backend: str = "auto") -> tuple[float, float]:
        step = None if name is None else DesignStep(cascade_design(name, market, book, 600), book)
        t = time.perf_counter()
        engine = PathEngine(book, liquidity, gate=True, gas=5.0, design=step, backend=backend)  # type: ignore[arg-type]
        o, _ = engine.run(exo)
        return time.perf_counter() - t, float(o.repaid.mean())

    t_warm, _ = run(None, paths[:2, :4])
    for name in DESIGNS:
        run(name, paths[:2, :4])
    print(f"accounts {book.n_accounts:,}, assets {book.n_assets}, paths {args.paths}, "
          f"steps {args.steps} (warm-up {t_warm:.2f} s)")  # fmt: skip
    print(f"| {'run':<36} | {'seconds':>12} | repaid per path (quote); ratio to the kernels")
    t_kernels, repaid = run(None, paths)
    row(f"close-factor kernels ({process_backend()})", f"{t_kernels:.3f}", f"{repaid:,.0f}")
    if process_backend() == "numba":
        run(None, paths[:2, :4], "numpy")
        t_np, repaid = run(None, paths, "numpy")
        ratio = t_np / t_kernels
        row("close-factor kernels (numpy)", f"{t_np:.3f}", f"{repaid:,.0f}; x{ratio:.1f}")
    for name in DESIGNS:
        t, repaid = run(name, paths)
        row(f"design step: {name}", f"{t:.3f}", f"{repaid:,.0f}; x{t / t_kernels:.1f}")


if __name__ == "__main__":
    main()
