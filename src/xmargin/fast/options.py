"""Float twins of the option rules (contract 6): Black-76 and N(x) of
:mod:`xmargin.risk.black76`, the settlement value of :mod:`xmargin.risk.options` and the
standard margin of :mod:`xmargin.risk.option_margin` (6.2). Portfolio margin's scenario
valuation (6.6) is in :mod:`xmargin.fast.portfolio_margin`.

N(x) is ``erfc`` (SciPy's ufunc on arrays, ``math.erfc`` inside Numba,
:func:`xmargin.fast.backend.erfc`), which keeps its relative precision in the tails.
Black-76 as F·N(d1) − K·N(d2) carries an absolute error of a few ulps of the notional
D·(F + K), not of the value: a far out-of-the-money option's float value is that close to
its exact twin, no closer (tests/properties/test_option_float_twins.py measures against
the notional).

An account's legs are rows of one float64 table (:data:`LEG_COLUMNS`, built by
:func:`xmargin.fast.option_packing.pack_legs`), rows of one expiry contiguous: the rules
over legs take that table and the range ``lo:hi`` of the account's (or the underlying's)
rows, so a Numba kernel calls them on a CSR slice without copying.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xmargin.fast.backend import elementwise, erfc, select

__all__ = [
    "CALL",
    "DISCOUNT",
    "FORWARD",
    "GROUP",
    "LEG_COLUMNS",
    "RATE",
    "SECONDS",
    "SIGMA",
    "SPOT",
    "STRIKE",
    "TAU",
    "VALUE",
    "Q",
    "black76",
    "expiry_margin",
    "isolated_margin",
    "max_loss",
    "norm_cdf",
    "otm_fraction",
    "settlement_value",
    "standard_option_sums",
]

_SQRT2 = math.sqrt(2.0)

#: Columns of the leg table: signed contracts, 1.0 for a call (0.0 a put), strike, σ,
#: τ in years, seconds to expiry, discount D, rate, forward F, mark value per contract and
#: the expiry group's number (equal numbers are contiguous) and the underlying's price S.
LEG_COLUMNS = (
    "q",
    "call",
    "strike",
    "sigma",
    "tau",
    "seconds",
    "discount",
    "rate",
    "forward",
    "value",
    "group",
    "spot",
)
Q, CALL, STRIKE, SIGMA, TAU, SECONDS, DISCOUNT, RATE, FORWARD, VALUE, GROUP, SPOT = range(12)

#: Positions in the packed ``[option_margin]`` array (:func:`pack_option_margin`).
MAX_SPOT, MIN_SPOT, MM_SPOT, MM_MTM, UNPAIRED_IM, UNPAIRED_MM, OFFSET = range(7)


@elementwise
def norm_cdf(x: Any) -> Any:
    """N(x) = erfc(−x/√2)/2 (twin of :func:`xmargin.risk.black76.norm_cdf`)."""
    return 0.5 * erfc(-x / _SQRT2)


@elementwise
def black76(is_call: Any, forward: Any, strike: Any, sigma: Any, tau: Any, discount: Any) -> Any:
    """One contract's Black-76 value in quote (twin of
    :func:`xmargin.risk.black76.black76`); intrinsic D·max(0, ±(F − K)) when σ√τ = 0.

    Notes
    -----
    .. math:: C = D (F N(d_1) - K N(d_2)),\\quad P = D (K N(-d_2) - F N(-d_1))
    """
    vol = sigma * np.sqrt(np.maximum(tau, 0.0))
    live = vol > 0.0
    v = select(live, vol, 1.0)
    d1 = (np.log(forward / strike) + 0.5 * v * v) / v
    d2 = d1 - v
    call = forward * norm_cdf(d1) - strike * norm_cdf(d2)
    put = strike * norm_cdf(-d2) - forward * norm_cdf(-d1)
    gain = select(is_call, forward - strike, strike - forward)
    value = select(live, select(is_call, call, put), gain)
    return discount * np.maximum(value, 0.0)


@elementwise
def settlement_value(is_call: Any, strike: Any, spot: Any) -> Any:
    """max(0, ±(S − K)), undiscounted (twin of :func:`xmargin.risk.options.settlement_value`)."""
    return np.maximum(select(is_call, spot - strike, strike - spot), 0.0)


@elementwise
def otm_fraction(is_call: Any, strike: Any, spot: Any) -> Any:
    """max(K − S, 0)/S for a call, max(S − K, 0)/S for a put (twin of
    :func:`xmargin.risk.option_margin.otm_fraction`)."""
    return np.maximum(select(is_call, strike - spot, spot - strike), 0.0) / spot


@elementwise
def isolated_margin(
    is_call: Any, strike: Any, q: Any, spot: Any, mtm: Any, pm: Any
) -> tuple[Any, Any]:
    """(IM, MM) of one position on its own, <= 0 (twin of
    :func:`xmargin.risk.option_margin.isolated_margin`; ``pm`` packed by
    :func:`~xmargin.fast.option_packing.pack_option_margin`)."""
    m = np.maximum(pm[MIN_SPOT], pm[MAX_SPOT] - otm_fraction(is_call, strike, spot))
    sq = spot * q  # quote/unit x units = quote
    im = mtm + m * sq
    mm_call = mtm + pm[MM_SPOT] * sq
    mm_put = mtm + np.minimum(pm[MM_SPOT] * sq, pm[MM_MTM] * mtm)
    im_put = np.minimum(im, pm[OFFSET] * mm_put)
    short = q < 0.0
    return (
        select(short, select(is_call, im, im_put), 0.0),
        select(short, select(is_call, mm_call, mm_put), 0.0),
    )


@elementwise
def max_loss(legs: Any, lo: int, hi: int) -> float:
    """min over X ∈ {0} ∪ strikes of min(0, Σ q·payoff(X)) over the rows ``lo:hi`` (one
    expiry; twin of :func:`xmargin.risk.option_margin.max_loss`)."""
    worst = 0.0
    for j in range(lo - 1, hi):  # lo - 1: the point X = 0
        x = 0.0 if j < lo else legs[j, STRIKE]
        pnl = 0.0
        for i in range(lo, hi):
            pnl += legs[i, Q] * settlement_value(legs[i, CALL] > 0.5, legs[i, STRIKE], x)
        worst = min(worst, pnl)
    return worst


@elementwise
def expiry_margin(
    legs: Any, lo: int, hi: int, spot: float, pm: Any
) -> tuple[float, float, float, float, float, float]:
    """(M_IM, M_MM, Σ isolated IM, Σ isolated MM, max_loss IM, max_loss MM) of the rows
    ``lo:hi`` (one expiry; twin of :func:`xmargin.risk.option_margin.expiry_margin`)."""
    iso_im = iso_mm = calls = 0.0
    for i in range(lo, hi):
        is_call = legs[i, CALL] > 0.5
        q = legs[i, Q]
        im, mm = isolated_margin(is_call, legs[i, STRIKE], q, spot, q * legs[i, VALUE], pm)
        iso_im += im
        iso_mm += mm
        if is_call:
            calls += q
    loss = max_loss(legs, lo, hi)
    loss_im = loss_mm = loss
    if calls < 0.0:
        fq = legs[lo, FORWARD] * calls
        loss_im = loss + pm[UNPAIRED_IM] * fq
        loss_mm = loss + pm[UNPAIRED_MM] * fq
    return (
        max(iso_im, loss_im),
        max(iso_mm, loss_mm),
        iso_im,
        iso_mm,
        loss_im,
        loss_mm,
    )


@elementwise
def standard_option_sums(
    legs: Any, lo: int, hi: int, pm: Any
) -> tuple[float, float, float, float, float, float, float]:
    """(cv, dv, ic, id, mc, md, option_value) of the rows ``lo:hi`` (one account's
    options, expiries contiguous; twin of
    :func:`xmargin.risk.option_margin.standard_option_sums`): long mtm to cv, short |mtm|
    to dv, per expiry −M_IM to id and −M_MM to md."""
    cv = dv = id_ = md = total = 0.0
    start = lo
    while start < hi:
        end = start + 1
        while end < hi and legs[end, GROUP] == legs[start, GROUP]:
            end += 1
        for i in range(start, end):
            mtm = legs[i, Q] * legs[i, VALUE]
            total += mtm
            if mtm > 0.0:
                cv += mtm
            else:
                dv -= mtm
        m = expiry_margin(legs, start, end, legs[start, SPOT], pm)
        id_ -= m[0]
        md -= m[1]
        start = end
    return cv, dv, 0.0, id_, 0.0, md, total
