"""Risk figures of a sample of losses: VaR, expected shortfall, means, standard errors.

VaR_α is the empirical α-quantile (the ⌈nα⌉-th smallest loss); ES_α the mean of the
losses at or beyond it (the worst ⌈n(1-α)⌉). Standard errors: a seeded bootstrap
(quantiles and tail means), ``std / sqrt(n)`` (means).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["RiskFigure", "mean_figure", "pct", "risk_figures"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RiskFigure:
    """An estimate and its Monte Carlo standard error (quote unless stated)."""

    value: float
    std_error: float


def _var_es(sorted_losses: FloatArray, alpha: float) -> tuple[float, float]:
    n = len(sorted_losses)
    k = min(n - 1, max(0, math.ceil(n * alpha) - 1))
    return float(sorted_losses[k]), float(sorted_losses[k:].mean())


def risk_figures(
    losses: FloatArray, levels: Sequence[float], seed: int, resamples: int = 200
) -> dict[str, RiskFigure]:
    """VaR and ES of ``losses`` at each level, with seeded bootstrap standard errors."""
    srt = np.sort(losses)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1,))))
    n = len(losses)
    boot = {lv: ([], []) for lv in levels}  # type: dict[float, tuple[list[float], list[float]]]
    for _ in range(resamples if n > 1 else 0):
        sample = np.sort(losses[rng.integers(0, n, n)])
        for lv in levels:
            v, e = _var_es(sample, lv)
            boot[lv][0].append(v)
            boot[lv][1].append(e)
    out: dict[str, RiskFigure] = {}
    for lv in levels:
        v, e = _var_es(srt, lv)
        bv, be = boot[lv]
        tag = pct(lv)
        out[f"var_{tag}"] = RiskFigure(v, float(np.std(bv, ddof=1)) if len(bv) > 1 else 0.0)
        out[f"es_{tag}"] = RiskFigure(e, float(np.std(be, ddof=1)) if len(be) > 1 else 0.0)
    return out


def pct(level: float) -> str:
    """A level as figure names write it: 0.95 -> ``95``, 0.995 -> ``99_5``."""
    return f"{level * 100:g}".replace(".", "_")


def mean_figure(x: FloatArray) -> RiskFigure:
    """The mean of ``x`` and its standard error ``std / sqrt(n)``."""
    n = len(x)
    return RiskFigure(float(x.mean()), float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0)
