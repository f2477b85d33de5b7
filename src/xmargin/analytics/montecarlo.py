"""Monte Carlo bad-debt risk: VaR and expected shortfall, liquidations at risk.

Paths are drawn from a return model (:mod:`xmargin.analytics.prices`) over a horizon, in
chunks of a fixed number of paths. Chunk ``c`` draws from its own generator,
``SeedSequence(seed, spawn_key=(0, c))``, so a run's numbers depend only on the seed and
the inputs, never on how many processes or workers share the chunks.

On each path the engine's own rules liquidate (contract 3, float64 kernels checked
against the exact engine): in one step at the horizon's prices (the default: ``steps =
1`` and no liquidity), or step by step through :class:`~xmargin.analytics.cascade.PathEngine`
(``steps > 1``, or with liquidity models, breakers or gas). Per path:

- bad debt: debt written off (contract 3.7) plus ``Σ max(0, debt - collateral)`` left;
- liquidated volume: quote value of the collateral seized;
- borrowing power ``Σ initial_collateral`` and borrowed ``Σ initial_debt`` at the end
  (usage = borrowed / borrowing power).

Risk figures: VaR_α is the empirical α-quantile of bad debt (the ⌈nα⌉-th smallest);
ES_α the mean of the losses at or beyond it (the worst ⌈n(1-α)⌉); Liquidations-at-Risk
the 95% quantile of liquidated volume. Standard errors: a seeded bootstrap (quantiles and
tail means), ``std / sqrt(n)`` (means).

By default the book is first *settled* (:mod:`xmargin.analytics.settlement`): liquidated
at today's prices as liquidators would (its bad debt reported apart), so that the
distribution is of what the horizon adds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics import kernel_layout as kl
from xmargin.analytics.cascade import Breakers, PathEngine
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.montecarlo_perps import carried_accounts, perp_accounts
from xmargin.analytics.return_models import ReturnModel
from xmargin.analytics.risk_figures import RiskFigure, mean_figure, pct, risk_figures
from xmargin.analytics.settlement import MAX_ROUNDS, SettleResult, settle
from xmargin.analytics.sim_kernels import sim_kernels
from xmargin.analytics.simbook import SimBook
from xmargin.errors import InputError

__all__ = [
    "MonteCarloConfig",
    "MonteCarloResult",
    "RiskFigure",
    "SettleResult",
    "chunk_layout",
    "chunk_size",
    "draw_paths",
    "monte_carlo",
    "path_engine",
    "risk_figures",
    "series_needed",
    "settle",
    "simulate_chunk",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Paths per chunk of the one-step kernel, and per block inside it (fixed, so that sums
#: are taken in one order whatever the parallelism).
ONE_STEP_CHUNK = 1024
ONE_STEP_BLOCK = 64
#: The step-by-step engine keeps a (paths x accounts) int32 map: at most 64 MiB of it.
PATH_ENGINE_CELLS = 1 << 24


@dataclass(frozen=True)
class MonteCarloConfig:
    """How to run a Monte Carlo (see the module docstring).

    ``asset_map``: market asset -> model series (default: the same name); ``static``:
    assets held at today's price. ``use_liquidity``: run the cascade against the
    market's liquidity models (liquidators act only when profitable).
    """

    n_paths: int = 10_000
    horizon_hours: float = 24.0
    steps: int = 1
    seed: int = 0
    levels: tuple[float, ...] = (0.95, 0.99)
    lar_level: float = 0.95
    settle_first: bool = True
    asset_map: Mapping[str, str] = field(default_factory=dict)
    static: tuple[str, ...] = ()
    use_liquidity: bool = True
    gas: float = 0.0
    breakers: Breakers = field(default_factory=Breakers)
    impact_half_life_hours: float | None = None
    bootstrap: int = 200
    #: option books: σ·(S_T/S_0)^(−E) over the horizon (:mod:`.simoptions`)
    vol_elasticity: float = 1.0

    def __post_init__(self) -> None:
        if self.n_paths < 1:
            raise InputError(f"--paths: must be >= 1, was {self.n_paths}")
        if self.steps < 1:
            raise InputError(f"--steps: must be >= 1, was {self.steps}")
        if not (math.isfinite(self.horizon_hours) and self.horizon_hours > 0):
            raise InputError(f"--horizon: must be > 0, was {self.horizon_hours}")
        for lv in (*self.levels, self.lar_level):
            if not 0.0 < lv < 1.0:
                raise InputError(f"confidence level must be in (0, 1), was {lv}")
        if not (math.isfinite(self.vol_elasticity) and self.vol_elasticity >= 0):
            raise InputError(f"--vol-elasticity: must be a number >= 0, was {self.vol_elasticity}")
        if self.gas < 0 or not math.isfinite(self.gas):
            raise InputError(f"--gas: must be >= 0, was {self.gas}")

    @property
    def step_hours(self) -> float:
        return self.horizon_hours / self.steps


def chunk_size(n_accounts: int, one_step: bool) -> int:
    """Paths per chunk: fixed by the book and the engine, never by the workers."""
    if one_step:
        return ONE_STEP_CHUNK
    return max(1, min(1024, PATH_ENGINE_CELLS // max(1, n_accounts)))


def chunk_layout(n_paths: int, n_accounts: int, one_step: bool) -> list[tuple[int, int]]:
    """``[(first_path, n), ...]``: the fixed chunks of a run (independent of workers)."""
    size = chunk_size(n_accounts, one_step)
    return [(c, min(size, n_paths - c)) for c in range(0, n_paths, size)]


def series_needed(book: SimBook, asset_map: Mapping[str, str], static: Sequence[str]) -> list[str]:
    """The model series the book's assets need: those of the assets held (an asset no
    account holds cannot change any figure) and not held at today's price."""
    held = {book.assets[j] for j in np.unique(book.col)}
    moving = [a for a in book.assets if a not in static and a in held]
    return list(dict.fromkeys(asset_map.get(a, a) for a in moving))


def _columns(book: SimBook, model: ReturnModel, cfg: MonteCarloConfig) -> IntArray:
    """Model column of each book asset, -1 for assets held at today's price.

    An asset no account holds cannot change any figure: it needs no series.
    """
    held = np.bincount(book.col, minlength=book.n_assets) > 0
    cols = []
    for j, a in enumerate(book.assets):
        if a in cfg.static or (not held[j] and cfg.asset_map.get(a, a) not in model.symbols):
            cols.append(-1)
            continue
        s = cfg.asset_map.get(a, a)
        if s not in model.symbols:
            raise InputError(
                f"asset {a!r}: the return model has no series {s!r} (it has "
                f"{', '.join(model.symbols)}); map it with --map {a}=SERIES or hold it "
                f"at today's price with --static {a}"
            )
        cols.append(model.symbols.index(s))
    for a in cfg.static:
        book.asset_index(a, "--static")
    return np.array(cols, dtype=np.int64)


def draw_paths(
    book: SimBook,
    model: ReturnModel,
    cfg: MonteCarloConfig,
    chunk: int,
    n: int,
    size: int | None = None,
) -> FloatArray:
    """Exogenous prices of chunk ``chunk`` (``n`` paths x steps x assets), seeded.

    A chunk always draws ``size`` paths (its full size) and keeps the first ``n``, so a
    path's prices do not depend on how many paths the run has after it.
    """
    seq = np.random.SeedSequence(cfg.seed, spawn_key=(0, chunk))
    rng = np.random.Generator(np.random.PCG64(seq))
    r = model.sample(rng, max(n, size or n), cfg.steps, cfg.step_hours)[:n]
    cum = np.cumsum(r, axis=1)
    cols = _columns(book, model, cfg)
    out = np.empty((n, cfg.steps, book.n_assets))
    for j, c in enumerate(cols):
        out[:, :, j] = book.price[j] if c < 0 else book.price[j] * np.exp(cum[:, :, c])
    return out


@dataclass(frozen=True)
class ChunkResult:
    """Per-path figures of one chunk and its per-account bad-debt sums."""

    index: int
    per_path: dict[str, FloatArray]
    account_bad_debt: FloatArray
    account_toxic: FloatArray


def _one_step(
    book: SimBook, prices: FloatArray, hours: float = 0.0, elasticity: float = 0.0
) -> tuple[dict[str, FloatArray], FloatArray]:
    watch = book.watch_list(prices.min(axis=0), prices.max(axis=0))
    held = carried_accounts(book)
    watch = np.setdiff1d(watch, held)
    wptr, went = book.rows_of(watch)
    rows = kl.WatchRows(watch, wptr, book.col[went], book.wnet[went])
    out_path, out_acct = sim_kernels().one_step(
        prices, rows, book.arrays(), book.s, book.b, ONE_STEP_BLOCK, MAX_ROUNDS
    )
    ic = np.bincount(book.col, weights=book.wic, minlength=book.n_assets)
    id_ = np.bincount(book.col, weights=book.wid, minlength=book.n_assets)
    per = {
        "bad_debt": out_path[:, kl.P_BAD_DEBT],
        "written_off": out_path[:, kl.P_WRITTEN_OFF],
        "residual": out_path[:, kl.P_RESIDUAL],
        "liquidated_volume": out_path[:, kl.P_SEIZED],
        "repaid_value": out_path[:, kl.P_REPAID],
        "protocol_fees": out_path[:, kl.P_FEES],
        "liquidations": out_path[:, kl.P_LIQUIDATIONS],
        "accounts_liquidated": out_path[:, kl.P_ACCOUNTS],
        "toxic_accounts": out_path[:, kl.P_TOXIC],
        "still_liquidatable": out_path[:, kl.P_STUCK],
        "borrowing_power": prices @ ic + out_path[:, kl.P_DELTA_IC],
        "borrowed": prices @ id_ + out_path[:, kl.P_DELTA_ID],
    }
    acct = np.zeros(book.n_accounts)
    acct[watch] = out_acct
    if len(held):
        perp_accounts(book, prices, held, per, acct, hours, elasticity)
    return per, acct


def _uses_engine(book: SimBook, cfg: MonteCarloConfig, liquidity: Liquidity | None) -> bool:
    b = cfg.breakers
    return (
        cfg.steps > 1
        or (liquidity is not None and cfg.use_liquidity)
        or cfg.gas > 0
        or b.max_round_value is not None
        or b.pause_drop is not None
    )


def path_engine(book: SimBook, cfg: MonteCarloConfig, liquidity: Liquidity | None) -> PathEngine:
    """The step-by-step engine a Monte Carlo runs: against the liquidity models (the
    liquidators then act only when profitable) when the run uses them, with gas,
    breakers and the decay of price impact as configured."""
    gate = liquidity is not None and liquidity.any and cfg.use_liquidity
    half = (
        None if cfg.impact_half_life_hours is None else cfg.impact_half_life_hours / cfg.step_hours
    )
    return PathEngine(
        book,
        liquidity if gate else None,
        gate=gate or cfg.gas > 0,
        gas=cfg.gas,
        breakers=cfg.breakers,
        impact_half_life_steps=half,
        option_hours_per_step=cfg.step_hours,
        vol_elasticity=cfg.vol_elasticity,
    )


def simulate_chunk(
    book: SimBook,
    model: ReturnModel,
    cfg: MonteCarloConfig,
    chunk: int,
    first: int,
    n: int,
    liquidity: Liquidity | None = None,
) -> ChunkResult:
    """Draw and run chunk ``chunk`` (paths ``first .. first + n``); pure and seeded."""
    one_step = not _uses_engine(book, cfg, liquidity)
    exo = draw_paths(book, model, cfg, chunk, n, chunk_size(book.n_accounts, one_step))
    if one_step:
        per, acct = _one_step(book, exo[:, -1, :], cfg.horizon_hours, cfg.vol_elasticity)
        toxic = np.zeros(book.n_accounts)
    else:
        o, _ = path_engine(book, cfg, liquidity).run(exo)
        per = o.per_path()
        if book.options is not None:
            per.update(o.option_per_path())
        acct = np.asarray(
            np.bincount(o.pair_acct, weights=o.pair_bad, minlength=book.n_accounts), np.float64
        )
        toxic = np.asarray(
            np.bincount(o.pair_acct, weights=o.pair_toxic, minlength=book.n_accounts), np.float64
        )
    per["final_prices"] = exo[:, -1, :]
    return ChunkResult(chunk, per, acct.astype(np.float64), toxic.astype(np.float64))


@dataclass(frozen=True)
class MonteCarloResult:
    """Everything a Monte Carlo produced; ``figures`` holds the headline numbers."""

    config: MonteCarloConfig
    model: dict[str, Any]
    book: SimBook
    initial: dict[str, float | int]
    per_path: dict[str, FloatArray]
    figures: dict[str, RiskFigure]
    account_bad_debt: FloatArray
    account_toxic: FloatArray
    engine: str

    def top_accounts(self, n: int = 10) -> list[tuple[str, float]]:
        """Accounts with the largest expected bad debt over the paths (quote per path)."""
        mean = self.account_bad_debt / self.config.n_paths
        order = np.argsort(-mean, kind="stable")[:n]
        return [(self.book.account_ids[i], float(mean[i])) for i in order if mean[i] > 0]

    def path_at(self, level: float) -> int:
        """Index of the path whose bad debt is the empirical ``level`` quantile."""
        losses = self.per_path["bad_debt"]
        order = np.argsort(losses, kind="stable")
        k = min(len(order) - 1, max(0, math.ceil(len(order) * level) - 1))
        return int(order[k])


Runner = Callable[[SimBook, list[tuple[int, int, int]]], list[ChunkResult]]


def monte_carlo(
    book: SimBook,
    model: ReturnModel,
    cfg: MonteCarloConfig,
    liquidity: Liquidity | None = None,
    runner: Runner | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> MonteCarloResult:
    """Run the Monte Carlo (see the module docstring).

    ``runner(book, chunks)`` runs the chunk list ``[(chunk, first, n), ...]`` on the
    (settled) book and returns the results in that order (a Dask runner,
    :mod:`xmargin.analytics.distributed`); by default the chunks run here, one after
    another, ``on_chunk(n_paths_done)`` after each.
    """
    _columns(book, model, cfg)  # refuse unmapped assets before any work
    if liquidity is not None and not liquidity.any:
        liquidity = None
    book.warn_perps_left_out(carried=True)
    initial: dict[str, float | int] = {}
    run_book = book
    if cfg.settle_first:
        st = settle(book)
        initial = st.totals()
        run_book = st.book_after
    one_step = not _uses_engine(run_book, cfg, liquidity)
    chunks = [
        (c, first, n)
        for c, (first, n) in enumerate(chunk_layout(cfg.n_paths, book.n_accounts, one_step))
    ]
    if runner is None:
        results = []
        for c, first, n in chunks:
            results.append(simulate_chunk(run_book, model, cfg, c, first, n, liquidity))
            if on_chunk is not None:
                on_chunk(n)
    else:
        results = runner(run_book, chunks)
    results.sort(key=lambda r: r.index)
    per_path = {k: np.concatenate([r.per_path[k] for r in results]) for k in results[0].per_path}
    acct = np.zeros(book.n_accounts)
    toxic = np.zeros(book.n_accounts)
    for r in results:
        acct += r.account_bad_debt
        toxic += r.account_toxic
    losses = per_path["bad_debt"]
    figures = risk_figures(losses, cfg.levels, cfg.seed, cfg.bootstrap)
    vol = per_path["liquidated_volume"]
    lar = risk_figures(vol, (cfg.lar_level,), cfg.seed, cfg.bootstrap)
    figures["liquidations_at_risk"] = lar[f"var_{pct(cfg.lar_level)}"]
    figures["expected_bad_debt"] = mean_figure(losses)
    figures["expected_liquidated_volume"] = mean_figure(vol)
    bp = per_path["borrowing_power"]
    figures["borrowing_power"] = mean_figure(bp)
    with np.errstate(divide="ignore", invalid="ignore"):
        usage = np.where(bp > 0, per_path["borrowed"] / bp, np.nan)
    figures["borrow_usage"] = (
        mean_figure(usage[np.isfinite(usage)])
        if np.isfinite(usage).any()
        else RiskFigure(math.nan, math.nan)
    )
    figures["probability_of_bad_debt"] = mean_figure((losses > 0).astype(np.float64))
    if "option_liquidations" in per_path:
        figures["expected_option_liquidations"] = mean_figure(per_path["option_liquidations"])
        figures["expected_option_closed_value"] = mean_figure(per_path["option_closed_value"])
        figures["expected_option_fees"] = mean_figure(per_path["option_fees"])
    return MonteCarloResult(
        config=cfg,
        model=model.describe(),
        book=run_book,
        initial=initial,
        per_path=per_path,
        figures=figures,
        account_bad_debt=acct,
        account_toxic=toxic,
        engine="one-step" if one_step else "cascade",
    )
