"""Volatility estimators and running-minimum checks for haircut calibration.

Each function takes one series; :mod:`xmargin.analytics.calibration` applies them per
asset (its module docstring states the rules: despiking pegged series, EWMA with
λ = 0.94, GARCH(1,1) with ``arch``, Monte Carlo and historical checks).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from xmargin import simulate as sim
from xmargin.analytics.prices import missing_series
from xmargin.errors import InputError

__all__ = [
    "GarchFit",
    "despike",
    "ewma_volatility",
    "garch_volatility",
    "historical_first_passage",
    "load_histories",
    "log_returns",
    "mc_first_passage",
]

FloatArray = NDArray[np.float64]


# -- series and estimators ----------------------------------------------------------------
def despike(
    prices: FloatArray, half_window: int = 12, k: float = 5.0, floor: float = 0.002
) -> tuple[FloatArray, int]:
    """Replace isolated spikes by the centred rolling median; returns (prices, replaced)."""
    n = len(prices)
    w = 2 * half_window + 1
    if n < w:
        return prices.copy(), 0
    pad = np.pad(prices, half_window, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(pad, w)
    med = np.median(windows, axis=1)
    mad = np.median(np.abs(windows - med[:, None]), axis=1)
    bad = np.abs(prices - med) > np.maximum(k * 1.4826 * mad, floor * med)
    out = np.where(bad, med, prices)
    return out, int(bad.sum())


def log_returns(prices: FloatArray, stride: int) -> FloatArray:
    """Log returns of every ``stride``-th price (non-overlapping)."""
    sampled = prices[::stride]
    out: FloatArray = np.diff(np.log(sampled))
    return out


def ewma_volatility(returns: FloatArray, lam: float, periods_per_year: float) -> float:
    """RiskMetrics EWMA: ``v ← λ v + (1 − λ) r²`` over the returns; annual ``√(v·N)``."""
    seed = returns[: min(30, len(returns))]
    v = float(np.mean(seed**2))
    for r in returns:
        v = lam * v + (1.0 - lam) * float(r) ** 2
    return math.sqrt(v * periods_per_year)


@dataclass(frozen=True)
class GarchFit:
    """GARCH(1,1) of returns: ``σ²_t = ω + α r²_{t−1} + β σ²_{t−1}`` (per step)."""

    sigma: float
    omega: float
    alpha: float
    beta: float
    long_run: float
    converged: bool


def garch_volatility(
    returns: FloatArray, periods_per_year: float, horizon_steps: int
) -> GarchFit | None:
    """Fit GARCH(1,1) with ``arch``; σ: the forecast variance averaged over the horizon.

    ``None`` when the series is too short (under 100 returns) or constant.
    """
    if len(returns) < 100 or float(np.std(returns)) == 0.0:
        return None
    from arch import arch_model

    scale = 100.0 / float(np.std(returns))  # the optimiser likes unit-scale data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = arch_model(returns * scale, mean="Zero", vol="GARCH", p=1, q=1, rescale=False)
        res = model.fit(disp="off", show_warning=False)
        fc = res.forecast(horizon=max(1, horizon_steps), reindex=False)
    var = np.asarray(fc.variance.values[-1], dtype=np.float64) / scale**2
    p = res.params
    omega = float(p["omega"]) / scale**2
    alpha, beta = float(p["alpha[1]"]), float(p["beta[1]"])
    persistence = alpha + beta
    long_run = (
        math.sqrt(omega / (1 - persistence) * periods_per_year) if persistence < 1 else math.inf
    )
    return GarchFit(
        sigma=math.sqrt(float(var.mean()) * periods_per_year),
        omega=omega,
        alpha=alpha,
        beta=beta,
        long_run=long_run,
        converged=int(res.convergence_flag) == 0,
    )


def historical_first_passage(
    prices: FloatArray, step_hours: float, days: float, q: float
) -> tuple[float, int] | None:
    """The ``q`` quantile of ``1 − min(P[t..t+H]) / P[t]`` over every start ``t``.

    ``(haircut, windows)``; ``None`` when the history is shorter than two horizons.
    """
    h = max(1, round(days * 24.0 / step_hours))
    if len(prices) < 2 * (h + 1):
        return None
    win = np.lib.stride_tricks.sliding_window_view(prices, h + 1)
    falls = 1.0 - win.min(axis=1) / win[:, 0]
    return float(np.quantile(falls, q)), len(falls)


def mc_first_passage(
    sigma: float, days: float, q: float, paths: int, seed: int
) -> tuple[float, float]:
    """Monte Carlo of the running minimum of a driftless log price, monitored hourly.

    Draws with :class:`xmargin.simulate.GBM` (drift ``σ²/2`` so that the log price has
    none, as the formula assumes). Returns the ``q`` quantile of the fall and its
    standard error from the order statistics' binomial interval.
    """
    steps = max(1, round(days * 24.0))
    model = sim.GBM(("X",), np.array([sigma]), np.array([0.5 * sigma**2]))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(7,))))
    r = model.sample(rng, paths, steps, days * 24.0 / steps)[:, :, 0]
    running_min = np.minimum(np.cumsum(r, axis=1).min(axis=1), 0.0)
    falls = np.sort(1.0 - np.exp(running_min))
    k = q * paths
    d = 1.96 * math.sqrt(paths * q * (1 - q))
    lo = falls[max(0, math.floor(k - d))]
    hi = falls[min(paths - 1, math.ceil(k + d))]
    return float(np.quantile(falls, q)), float(hi - lo) / (2 * 1.96)


def load_histories(
    paths: Sequence[str | Path], series: Sequence[str], step: str = "1h"
) -> dict[str, sim.PriceHistory]:
    """One :class:`~xmargin.simulate.PriceHistory` per series, each on its own span."""
    files: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            files.extend(sorted(p.glob("*.csv")))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such price file or folder")
    if not files:
        raise InputError("--prices: no .csv price file found")
    holders: dict[str, list[Path]] = {}
    for f in files:
        for s in sim.load_price_file(f):
            holders.setdefault(s, []).append(f)
    missing = [s for s in series if s not in holders]
    if missing:
        raise missing_series(missing, list(holders))
    return {s: sim.load_prices(holders[s], symbols=[s], step=step) for s in dict.fromkeys(series)}
