"""Benchmark of option positions in the risk book (issue 14): prints a table, asserts
nothing.

Run ``.venv/bin/python benchmarks/option_book.py`` (defaults: 100,000 accounts, 3 option
positions each on one underlying, over 4 expiries x 10 strikes x calls and puts, seed 1).
Measured in this run, best of ``--repeat``:

1. build: the option columns of the book from its positions (sort by account and
   expiry, first pricing and first terms);
2. tick: the underlying moves by 0.1 %: every leg re-priced with the float Black-76
   (:func:`xmargin.fast.options.black76`) and every account's standard-margin terms
   recomputed (:func:`xmargin.fast.options.standard_option_sums`), Numba kernels;
3. the same tick on the NumPy backend (the rules called per account from Python), for
   the ratio the compiled pass buys;
4. the whole risk book (:class:`xmargin.book.RiskBook`, balances and options,
   ``--portfolio-share`` of the accounts portfolio-margined, default 0.1 %):
   ``apply_prices`` of a 0.1 % WETH move, every account decided again with its option
   terms (those near a level, and the portfolio-margined ones, by the exact engine),
   against the same book without its options (the ratio).
   ``--book-repeat 0`` leaves it out.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import numpy as np

from xmargin.book.option_columns import OptionColumns, OptionTable
from xmargin.book.riskbook import RiskBook
from xmargin.fast.option_packing import pack_option_margin
from xmargin.io import parse_market
from xmargin.model import Account, Market
from xmargin.model.options import MarginMethod


def _market(n_expiries: int, n_strikes: int) -> object:
    options = {}
    days = [7, 28, 63, 182][:n_expiries]
    for d in days:
        expiry = f"2024-{1 + (d // 28) % 12:02d}-{1 + d % 28:02d}T08:00:00Z"
        for k in range(n_strikes):
            strike = 1500 + 100 * k
            for kind in ("call", "put"):
                options[f"ETH-{d}-{strike}-{kind[0].upper()}"] = {
                    "underlying": "WETH",
                    "settlement_asset": "USDC",
                    "kind": kind,
                    "strike": strike,
                    "expiry": expiry,
                    "volatility": 0.5 + 0.01 * k,
                }
    asset = {"collateral_factor": 0.8, "liquidation_threshold": 0.85, "liquidation_bonus": 0.05}
    doc = {
        "market": {"quote": "USD", "time": "2023-12-31T08:00:00Z"},
        "assets": {"WETH": {"price": 2000, **asset}, "USDC": {"price": 1, **asset}},
        "options": options,
        "accounts": {},
    }
    return parse_market(doc, source="benchmark")


def _best(fn: object, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--legs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--book-repeat", type=int, default=5)
    ap.add_argument("--portfolio-share", type=float, default=0.001)
    args = ap.parse_args()
    market = _market(4, 10)
    table = OptionTable.from_market(market, ["WETH", "USDC"])  # type: ignore[arg-type]
    pm = pack_option_margin(market.option_margin)  # type: ignore[attr-defined]
    rng = np.random.default_rng(args.seed)
    n, k = args.accounts, args.legs
    account_of = np.repeat(np.arange(n, dtype=np.int64), k)
    option_of = rng.integers(0, len(table.names), n * k).astype(np.int64)
    q = rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], n * k)

    def build(backend: str) -> OptionColumns:
        return OptionColumns(table, account_of, option_of, q, n, pm, backend=backend)  # type: ignore[arg-type]

    build("auto")  # compile the Numba kernel once
    t_build = _best(lambda: build("auto"), args.repeat)
    cols = build("auto")
    state = {"up": True}

    def tick(c: OptionColumns) -> None:
        ratio = 1.001 if state["up"] else 1 / 1.001
        state["up"] = not state["up"]
        c.apply_prices({0: ratio})

    t_tick = _best(lambda: tick(cols), args.repeat)
    slow = build("numpy")
    t_numpy = _best(lambda: tick(slow), max(1, min(2, args.repeat)))
    print(f"options book: {n:,} accounts, {cols.n_legs:,} option positions, "
          f"{len(table.names)} options on WETH")  # fmt: skip
    print(f"{'figure':<44}{'seconds':>12}{'per position':>16}")
    for name, t in (
        ("build (sort, first pricing, first terms)", t_build),
        ("tick: re-price every leg, re-sum accounts", t_tick),
        ("tick on the NumPy backend", t_numpy),
    ):
        print(f"{name:<44}{t:>12.4f}{t / cols.n_legs * 1e9:>13.0f} ns")
    print(f"NumPy / Numba tick ratio: {t_numpy / t_tick:.1f}x")
    if args.book_repeat > 0:
        _book(market, table.names, account_of, option_of, q, n, args)  # type: ignore[arg-type]


def _book(
    base: Market,
    names: tuple[str, ...],
    account_of: np.ndarray,
    option_of: np.ndarray,
    q: np.ndarray,
    n: int,
    args: argparse.Namespace,
) -> None:
    """Figure 4: RiskBook.apply_prices on the whole book, with and without its options."""
    rng = np.random.default_rng(args.seed + 1)
    usdc = rng.integers(500, 20_000, n)
    weth = rng.integers(0, 300, n) / 100
    pm = rng.random(n) < args.portfolio_share
    held: list[dict[str, Decimal]] = [{} for _ in range(n)]
    for a, o, size in zip(account_of.tolist(), option_of.tolist(), q.tolist(), strict=True):
        held[a][names[o]] = held[a].get(names[o], Decimal(0)) + Decimal(repr(size))

    def accounts(options: bool) -> list[Account]:
        return [
            Account(
                f"a{i}",
                {"USDC": Decimal(int(usdc[i])), "WETH": Decimal(repr(float(weth[i])))},
                {},
                options=held[i] if options else None,
                margin=MarginMethod.PORTFOLIO if options and pm[i] else MarginMethod.STANDARD,
            )
            for i in range(n)
        ]

    figures = {}
    for label, options in (("with options", True), ("without options", False)):
        market = Market(
            base.params, base.assets, base.categories, accounts(options),
            options=base.options, option_margin=base.option_margin,
        )  # fmt: skip
        t0 = time.perf_counter()
        book = RiskBook.from_market(market)
        t_load = time.perf_counter() - t0

        def tick(b: RiskBook = book, state: dict[str, bool] = {"up": True}) -> None:  # noqa: B006
            b.apply_prices({"WETH": Decimal(2002 if state["up"] else 2000)}, guard=False)
            state["up"] = not state["up"]

        tick()  # compile and settle
        book.stats["exact_rechecks"] = 0
        t = _best(tick, args.book_repeat)
        figures[label] = (t, t_load, book.stats["exact_rechecks"], book.counts())
    print(f"risk book, {n:,} accounts ({int(pm.sum()):,} portfolio-margined), "
          f"WETH 2000 <-> 2002 (Numba kernels where available)")  # fmt: skip
    print(f"{'figure':<44}{'seconds':>12}{'load s':>10}{'exact checks':>14}")
    for label, (t, t_load, rechecks, _) in figures.items():
        print(f"{'apply_prices ' + label:<44}{t:>12.4f}{t_load:>10.1f}{rechecks:>14,}")
    ratio = figures["with options"][0] / figures["without options"][0]
    print(f"with / without options tick ratio: {ratio:.1f}x")


if __name__ == "__main__":
    main()
