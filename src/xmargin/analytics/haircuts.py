"""Haircut formulas of contract 7.1: first passage, terminal, parameters, SmartLTV.

Pure functions of floats; :mod:`xmargin.analytics.calibration` feeds them estimates.
A year is 365 days; ``sigma`` is an annual volatility of the log price.

Why first passage: a liquidation is triggered the first time the price touches the
threshold, not where it ends. For a driftless log price ``σW``, the reflection principle
gives ``P(min_{t≤T} σW_t ≤ -x) = 2 P(σW_T ≤ -x)``, so the loss exceeded by the running
minimum with probability ``1 - q`` is the terminal loss at probability ``(1 - q)/2``:
``z((1+q)/2)`` replaces ``z(q)``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = [
    "DAYS_PER_YEAR",
    "collateral_factor_with_buffer",
    "first_passage_haircut",
    "liquidation_threshold_for",
    "smart_ltv",
    "terminal_haircut",
    "z",
]

DAYS_PER_YEAR = 365.0


def z(p: float) -> float:
    """The standard normal quantile ``z(p)``.

    >>> round(z(0.99), 4), round(z(0.995), 4)
    (2.3263, 2.5758)
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability must be in (0, 1), was {p}")
    return NormalDist().inv_cdf(p)


def _check(sigma: float, days: float, q: float) -> None:
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"volatility must be finite and >= 0, was {sigma}")
    if not (math.isfinite(days) and days > 0):
        raise ValueError(f"horizon must be > 0 days, was {days}")
    if not 0.0 < q < 1.0:
        raise ValueError(f"confidence must be in (0, 1), was {q}")


def first_passage_haircut(sigma: float, days: float, q: float) -> float:
    """Haircut that the running minimum breaches with probability ``1 - q``.

    Notes
    -----
    .. math:: h = 1 - e^{-z((1+q)/2)\\,\\sigma\\sqrt{T/365}}

    Examples
    --------
    >>> round(first_passage_haircut(0.8, 7, 0.99), 4)
    0.2483
    """
    _check(sigma, days, q)
    return 1.0 - math.exp(-z((1.0 + q) / 2.0) * sigma * math.sqrt(days / DAYS_PER_YEAR))


def terminal_haircut(sigma: float, days: float, q: float) -> float:
    """Haircut that the price at the horizon breaches with probability ``1 - q``.

    Notes
    -----
    .. math:: h_T = 1 - e^{-z(q)\\,\\sigma\\sqrt{T/365}}

    Examples
    --------
    >>> round(terminal_haircut(0.8, 7, 0.99), 4)
    0.2272
    """
    _check(sigma, days, q)
    return 1.0 - math.exp(-z(q) * sigma * math.sqrt(days / DAYS_PER_YEAR))


def liquidation_threshold_for(haircut: float, bonus: float) -> float:
    """The threshold at which a liquidation still covers debt plus bonus after the haircut.

    A position liquidated at ``hf = 1`` holds collateral ``C`` against debt ``lt·C``; the
    liquidator takes ``lt·C·(1 + bonus)`` of collateral, which must remain after a fall of
    ``h``: ``lt·(1 + bonus) ≤ 1 - h``.

    Notes
    -----
    .. math:: lt = (1 - h)/(1 + \\beta)

    Examples
    --------
    >>> round(liquidation_threshold_for(first_passage_haircut(0.8, 1, 0.99), 0.05), 4)
    0.855
    """
    if not 0.0 <= haircut < 1.0:
        raise ValueError(f"haircut must be in [0, 1), was {haircut}")
    if not (math.isfinite(bonus) and bonus >= 0):
        raise ValueError(f"bonus must be >= 0, was {bonus}")
    return (1.0 - haircut) / (1.0 + bonus)


def collateral_factor_with_buffer(lt: float, sigma: float, sigmas: float, days: float) -> float:
    """The collateral factor below ``lt``: a buffer of ``sigmas`` moves over ``days``.

    An account that borrows to its limit (``initial_collateral = initial_debt``) is
    liquidatable only after its collateral falls by the buffer: with ``k`` = ``sigmas``
    and ``t`` = ``days``,

    .. math:: cf = lt \\cdot e^{-k\\,\\sigma\\sqrt{t/365}}

    (one one-day standard deviation by default: 4.1% of lt at σ = 80%).

    >>> round(collateral_factor_with_buffer(0.855, 0.8, 1.0, 1.0), 4)
    0.8199
    """
    if sigmas < 0 or days < 0:
        raise ValueError("the buffer must be >= 0")
    return lt * math.exp(-sigmas * sigma * math.sqrt(days / DAYS_PER_YEAR))


def smart_ltv(sigma: float, debt: float, liquidity: float, beta: float, c: float) -> float:
    """B.Protocol's SmartLTV (Risk DAO): ``LTV = e^(−c·σ_d·√(d/l)) − β``.

    ``sigma`` annual (``σ_d = σ/√365`` daily), ``debt`` d (quote) the debt that the
    collateral may back, ``liquidity`` l (quote per day) what sells within slippage
    ``beta``, ``c`` the confidence factor. ``d/l`` is the days it takes to sell;
    with ``c = z((1+q)/2)`` and ``T = d/l`` the formula is ``(1 − h) − β``, beside our
    ``(1 − h)/(1 + β)``. An unlimited liquidity gives ``1 − β``.

    >>> round(smart_ltv(0.8, 1e6, 1e6, 0.05, z(0.995)), 4)
    0.8478
    """
    if liquidity <= 0:
        raise ValueError("liquidity must be > 0")
    days = debt / liquidity if math.isfinite(liquidity) else 0.0
    daily = sigma / math.sqrt(DAYS_PER_YEAR)
    return math.exp(-c * daily * math.sqrt(max(days, 0.0))) - beta
