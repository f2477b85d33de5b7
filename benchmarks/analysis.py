"""Benchmark of contract 7's analyses: calibrate, optimise (1 and 2 Dask workers), network.

Run with ``.venv/bin/python benchmarks/analysis.py`` (full size, several minutes) or with
smaller sizes for a quick look (``--opt-accounts 20000 --paths 500``). Prints figures
measured in this run; asserts nothing about time.

1. Calibration: 20 assets, two years of hourly prices each (17,520 per series): the
   ten real series of ``../shared/data/prices_hourly`` when present, each used twice
   (under two asset names), else GBM series drawn here. Timed: reading the files onto
   their grids, and the calibration (EWMA, GARCH(1,1) fit and forecast, Monte Carlo
   and historical checks of the running minimum).
2. Optimisation round: ``generate_book(100,000 accounts, 20 assets)``, GBM with stated
   volatilities (as ``benchmarks/simulate.py``), 2,000 paths over 24 h, one step; the
   ``chaos`` search over 20 assets × 10 candidate moves (every move simulated, then the
   combined proposal). In one process, then through ``dask_runner`` on a LocalCluster
   of 1 and of 2 worker processes.
3. Search methods on the same budget: ``chaos`` and ``joint`` on a book where the VaR
   budget binds (a 4-step, 4-day cascade with depth liquidity, K = the current VaR99).
4. Network: ``generate_book(1,000,000, 20)`` with a depth curve on every asset, a 15%
   WETH shock: load, then concentration, seizures (the book liquidated at the shocked
   prices), contagion edges and the largest cascade.
"""

from __future__ import annotations

import argparse
import platform
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from xmargin import simulate as sim
from xmargin.analytics.analysis_inputs import MonteCarloOptions, load_inputs
from xmargin.analytics.calibration import CalibrationConfig, calibrate, load_histories
from xmargin.analytics.network import network
from xmargin.analytics.optimize import Evaluator, OptimizeConfig, optimize
from xmargin.book.generate import generate_book

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "prices_hourly"
STABLE = {"USDC", "USDT", "DAI"}
MAJOR = {"WETH", "wstETH", "rETH", "WBTC"}


def _depth_everywhere(market: Path, v1: float) -> None:
    depth = f"[[0.01, {v1:.0f}], [0.1, {10 * v1:.0f}]]"
    line = f'liquidity = {{ model = "depth", depth = {depth} }}\n'
    text = re.sub(
        r"(\[assets\.([A-Za-z0-9_.-]+)\]\n)", lambda m: m.group(1) + line, market.read_text()
    )
    market.write_text(text)


def _vols(book: sim.SimBook) -> dict[str, str]:
    return {a: "0.02" if a in STABLE else "0.7" if a in MAJOR else "1.1" for a in book.assets}


def bench_calibration(tmp: Path) -> None:
    market, _ = generate_book(2000, 20, seed=1, out_dir=tmp / "cal")
    inputs = load_inputs(market)
    assets = list(inputs.book.assets)
    if SHARED.is_dir():
        series = sorted(p.name.split("_")[0] for p in SHARED.glob("*_usd.csv"))
        folder, source = SHARED, "real hourly series (../shared/data), each used twice"
    else:
        series = [f"S{i}" for i in range(10)]
        folder, source = tmp / "prices", "GBM series drawn here"
        folder.mkdir()
        rng = np.random.default_rng(0)
        t = 1_609_459_200 + 3600 * np.arange(17_520)
        for s in series:
            px = 100 * np.exp(np.cumsum(rng.normal(0, 0.8 / np.sqrt(8760), len(t))))
            rows = "\n".join(f"{ti},{s},{p:.8f}" for ti, p in zip(t, px, strict=True))
            (folder / f"{s}.csv").write_text("timestamp,asset,price\n" + rows + "\n")
    amap = {a: series[i % len(series)] for i, a in enumerate(assets)}
    t0 = time.perf_counter()
    hist = load_histories([folder], sorted(set(amap.values())))
    t1 = time.perf_counter()
    res = calibrate(inputs, assets, CalibrationConfig(estimator="garch"), hist, None, amap)
    t2 = time.perf_counter()
    n_obs = int(np.mean([len(h.times) for h in hist.values()]))
    print(f"calibration: {len(res.assets)} assets, {source}, ~{n_obs:,} hourly prices each")
    print(f"  read and grid the prices        {t1 - t0:8.2f} s")
    print(f"  calibrate (EWMA+GARCH+checks)   {t2 - t1:8.2f} s  ({(t2 - t1) / 20:.3f} s/asset)")


def bench_optimise(tmp: Path, accounts: int, paths: int, candidates: int) -> None:
    market, _ = generate_book(accounts, 20, seed=3, out_dir=tmp / "opt")
    inputs = load_inputs(market)
    opts = MonteCarloOptions(model="gbm", vols=_vols(inputs.book), paths=paths, corr=0.5)
    model = opts.return_model(inputs.book)
    cfg = opts.config()
    base = Evaluator(inputs, model, cfg, None).evaluate({})
    k = base.var99 * 1.2 + 1.0
    ocfg = OptimizeConfig(k, candidates=candidates)
    print(
        f"optimisation round: {accounts:,} accounts x 20 assets, {paths:,} paths, "
        f"{candidates} candidates per asset, K = {k:,.0f} (1.2 x today's VaR99)"
    )
    times = {}
    for label, workers in (("in process", None), ("Dask, 1 worker", 1), ("Dask, 2 workers", 2)):
        t0 = time.perf_counter()
        if workers is None:
            ev = Evaluator(inputs, model, cfg, None)
            r = optimize(inputs, ev, None, ocfg)
        else:
            with sim.dask_client(workers) as client:
                ev = Evaluator(inputs, model, cfg, None, sim.dask_runner(client, model, cfg))
                r = optimize(inputs, ev, None, ocfg)
        times[label] = time.perf_counter() - t0
        print(
            f"  {label:<16} {times[label]:8.1f} s  {r.evaluations} simulations "
            f"({times[label] / r.evaluations:.2f} s each), feasible {r.feasible}, "
            f"capacity {r.before.capacity:,.0f} -> {r.after.capacity:,.0f}"
        )
    print(
        f"  2 workers / 1 worker: {times['Dask, 2 workers'] / times['Dask, 1 worker']:.2f}; "
        f"1 worker / in process: {times['Dask, 1 worker'] / times['in process']:.2f}"
    )


def bench_methods(tmp: Path, accounts: int, paths: int) -> None:
    market, _ = generate_book(accounts, 6, seed=5, out_dir=tmp / "meth")
    _depth_everywhere(market, 2e5)
    inputs = load_inputs(market)
    opts = MonteCarloOptions(
        model="gbm", vols=_vols(inputs.book), paths=paths, corr=0.5, steps=4, horizon="4d"
    )
    model = opts.return_model(inputs.book)
    cfg = opts.config()
    liq = opts.liquidity(inputs)
    base = Evaluator(inputs, model, cfg, liq).evaluate({})
    print(
        f"search methods, same budget: {accounts:,} accounts x 6 assets, 4-step (4 d) cascade "
        f"with depth curves, {paths} paths, K = today's VaR99 {base.var99:,.0f}"
    )
    for method in ("chaos", "joint"):
        t0 = time.perf_counter()
        ev = Evaluator(inputs, model, cfg, liq)
        r = optimize(inputs, ev, None, OptimizeConfig(base.var99, candidates=6, method=method))  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        print(
            f"  {method:<6} capacity {r.before.capacity:,.0f} -> {r.after.capacity:,.0f} "
            f"(+{(r.after.capacity / r.before.capacity - 1) * 100:.2f}%), VaR99 "
            f"{r.after.var99:,.0f}, feasible {r.feasible}, {r.evaluations} simulations, {dt:.1f} s"
        )


def bench_network(tmp: Path, accounts: int) -> None:
    t0 = time.perf_counter()
    market, _ = generate_book(accounts, 20, seed=7, out_dir=tmp / "net")
    _depth_everywhere(market, 5e5)
    t1 = time.perf_counter()
    inputs = load_inputs(market)
    t2 = time.perf_counter()
    res = network(inputs.book, inputs.liquidity, {"WETH": -0.15})
    t3 = time.perf_counter()
    doc = res.to_doc()
    t4 = time.perf_counter()
    c = doc["contagion"]
    print(f"network: {accounts:,} accounts x 20 assets ({len(inputs.book.col):,} positions)")
    print(f"  generate the book (not timed as analysis) {t1 - t0:8.2f} s")
    print(f"  load (market file + Parquet)              {t2 - t1:8.2f} s")
    print(f"  analysis (HHI, seizures, contagion)       {t3 - t2:8.2f} s")
    print(f"  JSON document (10,000 edges listed)       {t4 - t3:8.2f} s")
    print(
        f"  edges {c['edge_count']:,}; largest cascade {c['largest_cascade_size']:,} accounts "
        f"({'exact' if c['exact'] else 'lower bound'}, {c['sources_examined']} sources examined)"
    )
    print(f"  load + analysis: {t3 - t1:.2f} s (target < 60 s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opt-accounts", type=int, default=100_000)
    ap.add_argument("--paths", type=int, default=2000)
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--method-accounts", type=int, default=5_000)
    ap.add_argument("--method-paths", type=int, default=200)
    ap.add_argument("--net-accounts", type=int, default=1_000_000)
    ap.add_argument("--only", choices=["calibration", "optimise", "methods", "network"])
    args = ap.parse_args()
    print(f"{platform.platform()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.only in (None, "calibration"):
            bench_calibration(tmp)
        if args.only in (None, "network"):
            bench_network(tmp, args.net_accounts)
        if args.only in (None, "methods"):
            bench_methods(tmp, args.method_accounts, args.method_paths)
        if args.only in (None, "optimise"):
            bench_optimise(tmp, args.opt_accounts, args.paths, args.candidates)


if __name__ == "__main__":
    main()
