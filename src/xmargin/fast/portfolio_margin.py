"""Float twins of portfolio margin's scenario valuation (:mod:`xmargin.risk.portfolio_margin`,
docs/contract.md 6.6): the volatility shocks, static discounts, skew, naked shorts, basis
contingency and the requirement of one underlying.

Legs are rows ``lo:hi`` of the leg table (:mod:`xmargin.fast.options`), one underlying's,
expiries contiguous; ``pp`` is ``[portfolio_margin]`` packed by
:func:`xmargin.fast.option_packing.pack_portfolio_margin` (positions ``P_*`` below) and
``scen`` its scenarios (rows spot, volatility code, damping).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xmargin.fast.backend import elementwise, select
from xmargin.fast.options import (
    CALL,
    DISCOUNT,
    FORWARD,
    GROUP,
    RATE,
    SECONDS,
    SIGMA,
    STRIKE,
    TAU,
    Q,
    black76,
)

__all__ = [
    "basis_contingency",
    "naked_shorts",
    "portfolio_margin",
    "static_discounts",
    "vol_shock_multipliers",
]

(
    P_MM_FACTOR,
    P_IM_FACTOR,
    P_VOL_UP,
    P_VOL_DOWN,
    P_MIN_VOL_UP,
    P_SHORT_POWER,
    P_LONG_POWER,
    P_SHORT_DAYS,
    P_MIN_DAYS,
    P_LONG_DISCOUNT,
    P_SHORT_DISCOUNT,
    P_LONG_RATE_SCALE,
    P_LONG_RATE_ADD,
    P_SHORT_RATE_SCALE,
    P_SHORT_RATE_ADD,
    P_SKEW_LINEAR_CAP,
    P_SKEW_LINEAR_SLOPE,
    P_SKEW_ABS_CAP,
    P_SKEW_ABS_SLOPE,
    P_MIN_K_STAR,
    P_K_STAR_WIDTH,
    P_K_STAR_VOL,
    P_K_STAR_VOL_SLOPE,
    P_BASIS_UP,
    P_BASIS_DOWN,
    P_BASIS_ADD,
    P_BASIS_MULT,
    P_PERP_MM,
    P_PERP_IM,
    P_NAKED_MM,
    P_NAKED_IM,
) = range(31)

#: Scenario volatility codes (:data:`xmargin.fast.option_packing.VOL_CODE`).
UP, NONE, DOWN, SKEW_LINEAR, SKEW_ABS = range(5)
_DAY = 86_400.0


@elementwise
def vol_shock_multipliers(seconds: Any, pp: Any) -> tuple[Any, Any]:
    """(up, down) volatility multipliers of an expiry ``seconds`` away (twin of
    :func:`xmargin.risk.portfolio_margin.vol_shock_multipliers`)."""
    horizon = pp[P_SHORT_DAYS] * _DAY
    floor = pp[P_MIN_DAYS] * _DAY
    power = select(seconds <= horizon, pp[P_SHORT_POWER], pp[P_LONG_POWER])
    mult = (horizon / np.maximum(seconds, floor)) ** power
    return 1.0 + pp[P_VOL_UP] * mult, np.maximum(1.0 - pp[P_VOL_DOWN] * mult, 0.0)


@elementwise
def static_discounts(tau: Any, rate: Any, discount: Any, pp: Any) -> tuple[Any, Any]:
    """(pos, neg) factors of a shocked expiry value V >= 0 and V < 0 (twin of
    :func:`xmargin.risk.portfolio_margin.static_discounts`)."""
    pos_rate = rate * pp[P_LONG_RATE_SCALE] + pp[P_LONG_RATE_ADD]
    neg_rate = rate * pp[P_SHORT_RATE_SCALE] + pp[P_SHORT_RATE_ADD]
    pos = pp[P_LONG_DISCOUNT] * np.exp(-tau * pos_rate)
    neg = pp[P_SHORT_DISCOUNT] / np.exp(-tau * neg_rate)
    return pos, np.minimum(1.0 / discount, neg)


@elementwise
def _skew_sigma(
    sigma: float, strike: float, forward: float, tau: float, absolute: bool, pp: Any
) -> float:
    """σ_K of one leg under a skew scenario (as the exact ``_skew_sigmas``)."""
    root = np.sqrt(tau)
    if absolute:
        cap = pp[P_SKEW_ABS_SLOPE] * root + pp[P_SKEW_ABS_CAP]
    else:
        cap = pp[P_SKEW_LINEAR_SLOPE] * root + pp[P_SKEW_LINEAR_CAP]
    width = root * pp[P_K_STAR_WIDTH] * (pp[P_K_STAR_VOL] + pp[P_K_STAR_VOL_SLOPE] * root)
    k_star = max(pp[P_MIN_K_STAR], width)
    k = np.log(strike / forward)
    if absolute:
        k = abs(k)
    scaled = k * cap / k_star
    shift = min(cap, scaled) if k >= 0.0 else max(-cap, scaled)
    return sigma * (1.0 + shift) if 1.0 + shift > 0.0 else 0.0


@elementwise
def _group_value(legs: Any, lo: int, hi: int, spot_move: float, vol: int, pp: Any) -> float:
    """Σ q·Black-76 of one expiry at forward F·spot_move and the scenario's volatility."""
    up, down = vol_shock_multipliers(legs[lo, SECONDS], pp)
    forward = legs[lo, FORWARD] * spot_move
    total = 0.0
    for i in range(lo, hi):
        sigma = legs[i, SIGMA]
        if vol == UP:
            sigma = max(pp[P_MIN_VOL_UP], sigma * up)
        elif vol == DOWN:
            sigma = sigma * down
        elif vol >= SKEW_LINEAR:
            sigma = _skew_sigma(
                sigma, legs[i, STRIKE], legs[lo, FORWARD], legs[i, TAU], vol == SKEW_ABS, pp
            )
        v = black76(
            legs[i, CALL] > 0.5, forward, legs[i, STRIKE], sigma, legs[i, TAU], legs[i, DISCOUNT]
        )
        total += legs[i, Q] * v
    return total


@elementwise
def _group_mtm(legs: Any, lo: int, hi: int, pp: Any) -> float:
    return _group_value(legs, lo, hi, 1.0, NONE, pp)


@elementwise
def naked_shorts(legs: Any, lo: int, hi: int) -> float:
    """Σ over strikes of max(0, Σ short − Σ long) of one expiry (twin of
    :func:`xmargin.risk.portfolio_margin.naked_shorts`)."""
    total = 0.0
    for i in range(lo, hi):
        seen = False
        for j in range(lo, i):
            if legs[j, STRIKE] == legs[i, STRIKE]:
                seen = True
        if seen:
            continue
        net = 0.0
        for j in range(i, hi):
            if legs[j, STRIKE] == legs[i, STRIKE]:
                net += legs[j, Q]
        if net < 0.0:
            total -= net
    return total


@elementwise
def basis_contingency(legs: Any, lo: int, hi: int, mtm: float, pp: Any) -> float:
    """min(V(F·up) − mtm, V(F·down) − mtm, 0)·(basis_add + basis_mult·τ) of one expiry
    (twin of :func:`xmargin.risk.portfolio_margin.basis_contingency`)."""
    worst = min(
        _group_value(legs, lo, hi, pp[P_BASIS_UP], NONE, pp) - mtm,
        _group_value(legs, lo, hi, pp[P_BASIS_DOWN], NONE, pp) - mtm,
        0.0,
    )
    factor: float = pp[P_BASIS_ADD] + pp[P_BASIS_MULT] * legs[lo, TAU]
    return worst * factor


@elementwise
def portfolio_margin(
    legs: Any,
    lo: int,
    hi: int,
    spot: float,
    linear_value: float,
    perp_units: float,
    supplied: float,
    haircuts: Any,
    pp: Any,
    scen: Any,
) -> tuple[float, float, float, float, float, float, float, float]:
    """(W, worst scenario or −1, B, C_MM, C_MM + C_IM, R_MM, R_IM, Σ mtm) of one
    underlying (twin of :func:`xmargin.risk.portfolio_margin.portfolio_margin`).

    ``linear_value``: Σ q·P of the perps plus (supply − borrow)·S; ``perp_units`` Σ|q| of
    the perps; ``supplied`` the supply of the underlying; ``haircuts`` its (maintenance,
    initial) haircut.
    """
    n_scen = scen.shape[0]
    pnl = np.zeros(n_scen)
    for s in range(n_scen):
        if int(scen[s, 1]) < SKEW_LINEAR:
            pnl[s] = linear_value * (scen[s, 0] - 1.0)
    basis = naked = mtm_all = 0.0
    start = lo
    while start < hi:
        end = start + 1
        while end < hi and legs[end, GROUP] == legs[start, GROUP]:
            end += 1
        mtm = _group_mtm(legs, start, end, pp)
        mtm_all += mtm
        pos, neg = static_discounts(legs[start, TAU], legs[start, RATE], legs[start, DISCOUNT], pp)
        for s in range(n_scen):
            vol = int(scen[s, 1])
            if vol == NONE and scen[s, 0] == 1.0:
                v = mtm
            else:
                v = _group_value(legs, start, end, scen[s, 0], vol, pp)
            change = v * (pos if v >= 0.0 else neg) - mtm
            pnl[s] += -abs(change) if vol >= SKEW_LINEAR else change
        basis += basis_contingency(legs, start, end, mtm, pp)
        naked += naked_shorts(legs, start, end)
        start = end
    worst = pnl[0] * scen[0, 2]
    worst_at = 0
    for s in range(1, n_scen):
        damped = pnl[s] * scen[s, 2]
        if damped < worst:
            worst, worst_at = damped, s
    c_mm = spot * (perp_units * pp[P_PERP_MM] + naked * pp[P_NAKED_MM] + supplied * haircuts[0])
    c_im = spot * (perp_units * pp[P_PERP_IM] + naked * pp[P_NAKED_IM] + supplied * haircuts[1])
    loss = min(basis, worst)
    return (
        worst,
        float(worst_at) if worst < 0.0 else -1.0,
        basis,
        c_mm,
        c_mm + c_im,
        pp[P_MM_FACTOR] * loss - c_mm,
        pp[P_IM_FACTOR] * loss - c_mm - c_im,
        mtm_all,
    )
