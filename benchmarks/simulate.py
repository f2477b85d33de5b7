"""Benchmark of hypothetical modeling: one-step Monte Carlo VaR and a 288-step cascade.

Run with ``.venv/bin/python benchmarks/simulate.py`` (full size, a few minutes) or with
smaller ``--accounts/--paths`` for a quick look. Prints a table of figures measured in
this run; asserts nothing about time.

1. Book: ``generate_book(accounts, assets)`` (Aave-like parameters, 3.5% of accounts
   liquidatable and 0.5% insolvent when drawn), read by ``load_simbook``; then *settled*
   (liquidated at today's prices), as ``monte_carlo`` does by default.
2. Model: GBM with stated annual volatilities (stablecoins 2%, ETH/BTC and their
   derivatives 70%, the rest 110%) and a one-factor correlation of 0.6 among the
   volatile assets, over 24 hours. Stated, not calibrated, so the benchmark needs no data.
3. One-step 24 h VaR: ``monte_carlo`` over ``--paths`` paths (warm: Numba's compile and
   cache load are timed apart), the engine's liquidations on every path.
4. Efficiency: the (path, account) pairs the engine examined (each chunk's watch list,
   the accounts an exact bound cannot rule out at that chunk's price range), the share
   pruned, and the VaR time per examined pair. (A dense matmul of the same shapes is not
   a floor: it mostly measures writing an accounts x paths matrix.)
5. Cascade: ``--cascade-paths`` paths of 288 five-minute steps, liquidators acting only
   when profitable, selling into depth curves given to every asset here; run on one
   thread, then on all of Numba's (the engine's groups of paths share the cores), with
   the same figures. ``--cascade-only`` skips 3-4.
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from xmargin.analytics.cascade import Breakers
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.montecarlo import (
    ONE_STEP_CHUNK,
    MonteCarloConfig,
    MonteCarloResult,
    draw_paths,
    monte_carlo,
    settle,
)
from xmargin.analytics.return_models import GBM
from xmargin.analytics.simbook import SimBook, load_simbook
from xmargin.book.generate import generate_book
from xmargin.fast.backend import load_numba, process_backend
from xmargin.model.market import Market
from xmargin.model.params import LiquidityParams

STABLE = {"USDC", "USDT", "DAI"}
MAJOR = {"WETH", "wstETH", "rETH", "WBTC"}
GAUNTLET_PER_WEEK = 300_000


def model_for(book: SimBook) -> GBM:
    """The stated GBM (see the module docstring)."""
    vol = np.array([0.02 if a in STABLE else 0.7 if a in MAJOR else 1.1 for a in book.assets])
    n = book.n_assets
    corr = np.full((n, n), 0.6)
    for j, a in enumerate(book.assets):
        if a in STABLE:
            corr[j, :] = corr[:, j] = 0.0
    np.fill_diagonal(corr, 1.0)
    return GBM(book.assets, vol, None, corr)


def liquidity_for(market_file: Path, book: SimBook) -> Liquidity:
    """:func:`depth_liquidity` for the assets of ``market_file`` (read without its book)."""
    from xmargin.io.market_file import parse_market, read_market_document

    raw, _ = read_market_document(market_file)
    raw = {**raw, "market": {k: v for k, v in raw["market"].items() if k != "accounts_file"}}
    return depth_liquidity(parse_market(raw, str(market_file)), book)


def depth_liquidity(market: Market, book: SimBook) -> Liquidity:
    """Depth curves for every asset, scaled to the book's supply of it (also
    ``benchmarks/designs.py``'s)."""
    supplied = np.bincount(book.col, weights=book.s * book.price[book.col], minlength=book.n_assets)
    assets = {}
    for j, (sym, ap) in enumerate(market.assets.items()):
        # 2% of the book's supply of the asset sells within 1% of mid, 10% within 10%.
        v1 = max(1e5, 0.02 * supplied[j])
        depth = ((0.01, v1), (0.10, 5 * v1))
        assets[sym] = ap.model_copy(
            update={"liquidity": LiquidityParams(model="depth", depth=depth)}
        )
    return Liquidity.from_params(assets)


def row(name: str, value: str, note: str = "") -> None:
    print(f"| {name:<44} | {value:>18} | {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--assets", type=int, default=20)
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--cascade-paths", type=int, default=1_000)
    ap.add_argument("--steps", type=int, default=288)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cascade-only", action="store_true")
    args = ap.parse_args()

    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, numpy {np.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        market_file, _ = generate_book(args.accounts, args.assets, args.seed, Path(tmp))
        t = time.perf_counter()
        book, _ = load_simbook(market_file)
        t_load = time.perf_counter() - t
        liquidity = liquidity_for(market_file, book)
    model = model_for(book)

    t = time.perf_counter()
    small = SimBook.from_market  # noqa: F841 - keeps the import honest for readers
    warm = monte_carlo(book, model, MonteCarloConfig(n_paths=64, seed=args.seed))
    t_warm = time.perf_counter() - t
    t = time.perf_counter()
    st = settle(book)
    t_settle = time.perf_counter() - t
    settled = st.book_after

    cfg = MonteCarloConfig(n_paths=args.paths, seed=args.seed)
    res = None
    t_var = math.nan
    examined = 0
    if not args.cascade_only:
        t = time.perf_counter()
        res = monte_carlo(book, model, cfg)
        t_var = time.perf_counter() - t
        # Pairs examined: the watch list (exact pruning) of each chunk, against all pairs.
        for c, first in enumerate(range(0, args.paths, ONE_STEP_CHUNK)):
            n = min(ONE_STEP_CHUNK, args.paths - first)
            prices = draw_paths(settled, model, cfg, c, n, ONE_STEP_CHUNK)[:, -1, :]
            examined += n * len(settled.watch_list(prices.min(axis=0), prices.max(axis=0)))

    ccfg = MonteCarloConfig(
        n_paths=args.cascade_paths,
        steps=args.steps,
        seed=args.seed,
        gas=10.0,
        breakers=Breakers(),
    )
    numba = load_numba() if process_backend() == "numba" else None
    threads = numba.get_num_threads() if numba is not None else 1
    if numba is not None:
        numba.set_num_threads(1)
    t = time.perf_counter()
    cres1 = monte_carlo(book, model, ccfg, liquidity=liquidity)
    t_cascade1 = time.perf_counter() - t
    if numba is not None:
        numba.set_num_threads(threads)
    t = time.perf_counter()
    cres = monte_carlo(book, model, ccfg, liquidity=liquidity)
    t_cascade = time.perf_counter() - t
    same = all(np.array_equal(cres.per_path[k], cres1.per_path[k]) for k in cres.per_path)

    cf = cres.figures
    pairs = args.paths * book.n_accounts
    print()
    print(f"| {'figure':<44} | {'value':>18} | note")
    print(f"|{'-' * 46}|{'-' * 20}|------")
    row("book", f"{book.n_accounts:,} x {book.n_assets}", f"{len(book.col):,} positions")
    row("load (s)", f"{t_load:.2f}", "load_simbook, Parquet positions")
    row("first run incl. Numba compile/cache (s)", f"{t_warm:.2f}", "64 paths")
    row(
        "settle at today's prices (s)",
        f"{t_settle:.2f}",
        f"{st.liquidations:,} liquidations, bad debt {st.bad_debt:,.0f}",
    )
    if res is not None:
        _var_rows(res, args.paths, pairs, t_var, examined, book)
    row(
        f"cascade {args.steps} steps x {args.cascade_paths:,} paths (s)",
        f"{t_cascade:.2f}",
        f"depth curves, gas 10, profitable only; {threads} threads",
    )
    row(
        "  same on one thread (s)",
        f"{t_cascade1:.2f}",
        "same figures" if same else "FIGURES DIFFER",
    )
    row("  path-steps per second", f"{args.cascade_paths * args.steps / t_cascade:,.0f}", "")
    row(
        "  ES 99 of bad debt / mean rounds",
        f"{cf['es_99'].value:,.0f}",
        f"{cres.per_path['rounds'].mean():.1f} rounds with liquidations per path",
    )
    _ = warm


def _var_rows(
    res: MonteCarloResult,
    n_paths: int,
    pairs: int,
    t_var: float,
    examined: int,
    book: SimBook,
) -> None:
    f = res.figures
    row(f"one-step 24 h VaR, {n_paths:,} paths (s)", f"{t_var:.2f}", "target <= 10 s")
    row(
        "  (path, account) pairs examined",
        f"{examined:,}",
        f"{examined / pairs:.2%} of {pairs:,}; {1 - examined / pairs:.2%} pruned (exact bound)",
    )
    row(
        "  VaR time per examined pair (ns)",
        f"{t_var / max(examined, 1) * 1e9:.1f}",
        f"per pair of the whole book: {t_var / pairs * 1e9:.2f} ns",
    )
    row(
        "  simulations per second (paths x book)",
        f"{n_paths / t_var:,.0f}",
        f"Gauntlet: ~{GAUNTLET_PER_WEEK:,}/week = {GAUNTLET_PER_WEEK / 604800:.2f}/s",
    )
    row("  account-paths per second", f"{pairs / t_var:,.0f}", "")
    row(
        "  VaR 95 / 99 of bad debt",
        f"{f['var_95'].value:,.0f} / {f['var_99'].value:,.0f}",
        f"se {f['var_95'].std_error:,.0f} / {f['var_99'].std_error:,.0f}",
    )
    row(
        "  ES 95 / 99 of bad debt",
        f"{f['es_95'].value:,.0f} / {f['es_99'].value:,.0f}",
        f"se {f['es_95'].std_error:,.0f} / {f['es_99'].std_error:,.0f}",
    )
    row(
        "  Liquidations-at-Risk (95%)",
        f"{f['liquidations_at_risk'].value:,.0f}",
        f"se {f['liquidations_at_risk'].std_error:,.0f}",
    )


if __name__ == "__main__":
    main()
