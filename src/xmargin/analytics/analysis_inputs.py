"""What calibrate, optimise and network read: the book, the parameters, the liquidity,
and the Monte Carlo options of ``xmargin simulate montecarlo``.

Only the public faces of the simulation layer (:mod:`xmargin.simulate`) and of the file
readers (:mod:`xmargin.io`) are used, so these analyses follow the engines as they change.
:class:`MonteCarloOptions` mirrors the options of ``simulate montecarlo`` one for one,
with the same defaults: ``optimize`` must compute VaR99 exactly as that command does
(contract 7.2), and a test runs the command on the written market to hold it to that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xmargin import simulate as sim
from xmargin.errors import InputError
from xmargin.io import parse_market
from xmargin.io.market_file import MarketFormat, read_market_document
from xmargin.model import Market

__all__ = [
    "MarketInputs",
    "MonteCarloOptions",
    "load_inputs",
    "number",
    "parse_fraction",
    "parse_kv",
    "parse_shocks",
]

BoolArray = NDArray[np.bool_]


def number(x: float | int | None) -> str | None:
    """A float as the contract writes numbers: a decimal string; ``null`` if not finite.

    >>> number(0.25), number(float("nan")), number(3)
    ('0.25', None, '3')
    """
    from decimal import Decimal

    from xmargin.mathlib import fmt

    if x is None:
        return None
    f = float(x)
    if not math.isfinite(f):
        return None
    return fmt(Decimal(float.__repr__(f)))


def parse_kv(items: Sequence[str], option: str) -> dict[str, str]:
    """``["A=1", "B=2"]`` as ``{"A": "1", "B": "2"}``; a clear error for anything else."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{option} {item!r}: expected NAME=VALUE")
        if key.strip() in out:
            raise InputError(f"{option}: {key.strip()} is given more than once")
        out[key.strip()] = value.strip()
    return out


def parse_fraction(text: str, where: str) -> float:
    """``"-30%"`` -> -0.3, ``"-0.3"`` -> -0.3; a finite number, else a located error.

    >>> parse_fraction("-30%", "--shock"), parse_fraction("0.25", "x")
    (-0.3, 0.25)
    """
    from decimal import Decimal, InvalidOperation

    t = str(text).strip()
    pct = t.endswith("%")
    try:
        d = Decimal(t[:-1].strip() if pct else t)
    except (InvalidOperation, ValueError):
        raise InputError(f"{where}: must be a number or a percentage, was {text!r}") from None
    if not d.is_finite() or abs(d) > 10**6:
        raise InputError(f"{where}: must be a finite number, was {text!r}")
    return float(d) / 100.0 if pct else float(d)


def parse_shocks(items: Sequence[str], assets: Sequence[str]) -> dict[str, float]:
    """``["WETH=-30%"]`` as ``{"WETH": -0.3}``; each asset once, each shock above -100%."""
    out: dict[str, float] = {}
    for a, v in parse_kv(items, "--shock").items():
        if a not in assets:
            raise InputError(f"--shock: unknown asset {a!r}; the market lists {', '.join(assets)}")
        x = parse_fraction(v, f"--shock {a}")
        if x <= -1.0:
            raise InputError(f"--shock {a}={v}: must be above -100% so that the price stays > 0")
        out[a] = x
    return out


@dataclass(frozen=True, eq=False)
class MarketInputs:
    """A market file read for analysis.

    ``market`` holds every parameter; its accounts are those written inline (a market
    whose accounts live in an ``accounts_file`` is read into ``book`` by columns, and
    ``market.accounts`` is then empty). ``raw`` is the parsed document, kept so that a
    proposal can be written back as the same file with only its changed keys.
    """

    path: Path
    book: sim.SimBook
    market: Market
    liquidity: sim.Liquidity
    raw: dict[str, Any]
    format: MarketFormat
    accounts_in_file: bool

    def asset_level_entries(self) -> BoolArray:
        """Per book entry: whether it takes its asset's own weights (no category rule).

        An account whose category lists the entry's asset takes the category's weights
        (contract 1.2); changing the asset's parameters does not reach that entry.
        """
        book, market = self.book, self.market
        cats = tuple(market.categories)
        n_cat = len(cats)
        lists = np.zeros((n_cat + 1, book.n_assets), dtype=np.bool_)
        index = {a: j for j, a in enumerate(book.assets)}
        for c, name in enumerate(cats):
            for a in market.categories[name].assets:
                lists[c, index[a]] = True
        acc_cat = self._account_categories(cats)
        out: BoolArray = ~lists[acc_cat[book.row], book.col]
        return out

    def _account_categories(self, cats: tuple[str, ...]) -> NDArray[np.int64]:
        n_cat = len(cats)
        pos = {c: i for i, c in enumerate(cats)}
        if not self.accounts_in_file:
            return np.array(
                [
                    pos[c] if (c := self.market.accounts[a].category) is not None else n_cat
                    for a in self.book.account_ids
                ],
                dtype=np.int64,
            )
        import pyarrow as pa
        import pyarrow.compute as pc

        from xmargin.io.positions import read_positions_table

        mk = self.raw["market"]
        table = read_positions_table(self.path.parent / str(mk["accounts_file"]))
        out = np.full(self.book.n_accounts, n_cat, dtype=np.int64)
        if "category" not in table.column_names or not cats:
            return out
        accounts = table.column("account").combine_chunks()
        where = pc.index_in(pa.array(self.book.account_ids, pa.string()), value_set=accounts)
        rows = np.asarray(where.to_numpy(zero_copy_only=False))
        cat_col = table.column("category").combine_chunks()
        cat_idx = pc.index_in(cat_col, value_set=pa.array(cats, pa.string()))
        ci = np.asarray(pc.fill_null(cat_idx, n_cat).to_numpy(zero_copy_only=False), np.int64)
        # Every row of an account names the same category (the loader checks it).
        ok = ~np.isnan(rows.astype(np.float64))
        out[ok] = ci[rows[ok].astype(np.int64)]
        return out


def load_inputs(path: str | Path) -> MarketInputs:
    """Read ``path`` (validated as every command does) with its liquidity models."""
    p = Path(path)
    book, market = sim.load_simbook(p)
    raw, fmt_ = read_market_document(p)
    in_file = market is None
    if market is None:
        mk = {k: v for k, v in raw["market"].items() if k != "accounts_file"}
        market = parse_market({**raw, "market": mk}, str(p), p.parent)
    return MarketInputs(
        p, book, market, sim.Liquidity.from_params(market.assets), raw, fmt_, in_file
    )


@dataclass(frozen=True)
class MonteCarloOptions:
    """The options of ``xmargin simulate montecarlo``, with its defaults (contract 7.2)."""

    model: str = "bootstrap"
    prices: tuple[Path, ...] = ()
    start: str | None = None
    end: str | None = None
    asset_map: Mapping[str, str] = field(default_factory=dict)
    static: tuple[str, ...] = ()
    vols: Mapping[str, str] = field(default_factory=dict)
    corr: float | None = None
    dof: float = 4.0
    lam: float = 0.94
    paths: int = 10_000
    horizon: str = "24h"
    steps: int = 1
    seed: int = 0
    settle_first: bool = True
    use_liquidity: bool = True
    gas: float = 0.0
    cap: float | None = None
    pause_drop: str | None = None
    pause_window: str = "1h"

    def config(self) -> sim.MonteCarloConfig:
        """The :class:`~xmargin.simulate.MonteCarloConfig` that ``montecarlo`` builds."""
        if not (math.isfinite(self.gas) and self.gas >= 0):
            raise InputError(f"--gas: must be >= 0, was {self.gas}")
        hours = sim.parse_duration_hours(self.horizon, "--horizon")
        return sim.MonteCarloConfig(
            n_paths=self.paths,
            horizon_hours=hours,
            steps=self.steps,
            seed=self.seed,
            settle_first=self.settle_first,
            asset_map=dict(self.asset_map),
            static=tuple(self.static),
            use_liquidity=self.use_liquidity,
            gas=self.gas,
            breakers=self._breakers(hours / max(1, self.steps)),
        )

    def _breakers(self, step_h: float) -> sim.Breakers:
        cap = self.cap
        if cap is not None and not (math.isfinite(cap) and cap > 0):
            raise InputError(f"--cap: must be a positive value, was {cap}")
        drop = None
        if self.pause_drop is not None:
            drop = parse_fraction(self.pause_drop, "--pause-drop")
            if not 0.0 < drop < 1.0:
                raise InputError(
                    f"--pause-drop: must be a fraction in (0, 1), was {self.pause_drop}"
                )
        steps = max(
            1, round(sim.parse_duration_hours(self.pause_window, "--pause-window") / step_h)
        )
        return sim.Breakers(cap, drop, steps)

    def return_model(self, book: sim.SimBook) -> sim.ReturnModel:
        """The return model ``montecarlo`` builds from the same options."""
        for a in self.static:
            book.asset_index(a, "--static")
        held = {book.assets[j] for j in np.unique(book.col)}
        moving = [a for a in book.assets if a not in self.static and a in held]
        series = list(dict.fromkeys(self.asset_map.get(a, a) for a in moving))
        kind = self.model
        if kind == "gbm" and not self.prices:
            return self._stated_gbm(series)
        if not self.prices:
            raise InputError(f"--model {kind}: needs --prices (price files or a folder)")
        history = sim.load_prices(list(self.prices), symbols=series, start=self.start, end=self.end)
        if kind == "gbm":
            return sim.GBM.calibrate(history)
        if kind == "t":
            return sim.StudentT.calibrate(history, self.dof)
        if kind == "bootstrap":
            return sim.FilteredBootstrap(history, self.lam)
        raise InputError(f"--model {kind!r}: expected bootstrap, t or gbm")

    def _stated_gbm(self, series: list[str]) -> sim.GBM:
        vols = self.vols
        if not vols:
            raise InputError("--model gbm: give --prices to calibrate, or --vol ASSET=0.8 ...")
        missing = [s for s in series if s not in vols]
        if missing:
            raise InputError(f"--vol: no volatility for {', '.join(missing)} (or --static them)")
        sigma = []
        for s in series:
            try:
                v = float(vols[s])
            except ValueError:
                raise InputError(f"--vol {s}={vols[s]}: not a number") from None
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"--vol {s}={vols[s]}: must be >= 0")
            sigma.append(v)
        rho = 0.0 if self.corr is None else self.corr
        if len(series) > 1 and not -1.0 / max(1, len(series) - 1) <= rho <= 1.0:
            raise InputError(f"--corr: {rho} is not a valid common correlation")
        c = np.full((len(series), len(series)), rho)
        np.fill_diagonal(c, 1.0)
        return sim.GBM(tuple(series), np.array(sigma), None, c)

    def liquidity(self, inputs: MarketInputs) -> sim.Liquidity | None:
        """What ``montecarlo`` passes as liquidity: the market's models, or none."""
        return inputs.liquidity if self.use_liquidity else None
