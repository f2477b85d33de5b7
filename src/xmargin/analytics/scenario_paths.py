"""What a scenario does to prices: a path of prices per step, from today's.

``shocks``: price x (1 + shock). ``correlated``: the lead's log return
``r = ln(1 + shock)``; each listed asset (default: every other asset not shocked)
moves by ``correlation * (vol_a / vol_lead) * r`` in log price (the conditional mean of a
bivariate normal), with volatilities from ``vols = {...}``, else from the price files,
else equal. ``depeg``: the asset's price becomes its reference's new price times today's
ratio times ``(1 + deviation)`` (no reference: its own price times ``(1 + deviation)``).
They apply in that order, and the prices reach their end in ``steps`` equal steps of log
price. ``replay``: every asset's price follows its series' ratio to the window's first
price (``p_t = p_today * P_t / P_start``); assets without a series must be listed in
``static = [...]`` (held at today's price).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.prices import HOURS_PER_YEAR, PriceHistory, load_prices
from xmargin.analytics.scenario_file import Scenario
from xmargin.analytics.simbook import SimBook
from xmargin.errors import InputError

__all__ = ["scenario_prices"]

FloatArray = NDArray[np.float64]


def _history_for(book: SimBook, sc: Scenario, assets: Sequence[str]) -> PriceHistory:
    series = [sc.asset_map.get(a, a) for a in assets]
    return load_prices(list(sc.prices), symbols=list(dict.fromkeys(series)))


def _terminal(book: SimBook, sc: Scenario) -> FloatArray:
    """Prices after the scenario's shocks, correlated move and de-pegs."""
    p0 = book.price
    p = p0.copy()
    for a, x in sc.shocks.items():
        p[book.asset_index(a, f"scenario {sc.name} shocks")] = p0[book.asset_index(a)] * (1.0 + x)
    c = sc.correlated
    if c is not None:
        lead = book.asset_index(c.lead, f"scenario {sc.name} correlated.lead")
        followers = (
            [book.asset_index(a, f"scenario {sc.name} correlated.assets") for a in c.assets]
            if c.assets is not None
            else [j for j, a in enumerate(book.assets) if j != lead and a not in sc.shocks]
        )
        vols = _vols(book, sc, [lead, *followers])
        r_lead = math.log1p(c.shock)
        p[lead] = p0[lead] * (1.0 + c.shock)
        for j in followers:
            beta = c.correlation * vols[j] / vols[lead] if vols[lead] > 0 else c.correlation
            p[j] = p0[j] * math.exp(beta * r_lead)
    for d in sc.depeg:
        j = book.asset_index(d.asset, f"scenario {sc.name} depeg")
        if d.reference is None:
            p[j] = p[j] * (1.0 + d.deviation)
        else:
            r = book.asset_index(d.reference, f"scenario {sc.name} depeg reference")
            p[j] = p[r] * (p0[j] / p0[r]) * (1.0 + d.deviation)
    return p


def _vols(book: SimBook, sc: Scenario, idx: Sequence[int]) -> dict[int, float]:
    c = sc.correlated
    assert c is not None
    out = {j: 1.0 for j in idx}
    named = [j for j in idx if book.assets[j] in c.vols]
    for j in named:
        out[j] = c.vols[book.assets[j]]
    rest = [j for j in idx if j not in named]
    if rest and sc.prices:
        hist = _history_for(book, sc, [book.assets[j] for j in rest])
        r = hist.log_returns()
        sd = r.std(axis=0, ddof=1) * math.sqrt(HOURS_PER_YEAR / hist.step_hours)
        for j in rest:
            out[j] = float(sd[hist.symbols.index(sc.asset_map.get(book.assets[j], book.assets[j]))])
    return out


def scenario_prices(book: SimBook, sc: Scenario) -> tuple[FloatArray, FloatArray | None]:
    """``(path, times)``: exogenous prices per step (steps x assets), and unix times for a
    replay (``None`` otherwise)."""
    if sc.replay is not None:
        for a in sc.static:
            book.asset_index(a, f"scenario {sc.name} static")
        moving = [a for a in book.assets if a not in sc.static]
        series = [sc.asset_map.get(a, a) for a in moving]
        hist = load_prices(
            list(sc.prices),
            symbols=list(dict.fromkeys(series)),
            step=sc.replay.step,
            start=sc.replay.start,
            end=sc.replay.end,
        )
        rel = hist.relative_path()
        path = np.repeat(book.price[None, :], len(hist.times), axis=0)
        for a, s in zip(moving, series, strict=True):
            j = book.asset_index(a)
            path[:, j] = book.price[j] * rel[:, hist.symbols.index(s)]
        return path, hist.times.astype(np.float64)
    end = _terminal(book, sc)
    if (end <= 0).any() or not np.isfinite(end).all():
        raise InputError(f"scenario {sc.name}: a price would fall to zero or below")
    frac = np.arange(1, sc.steps + 1)[:, None] / sc.steps
    path = book.price[None, :] * np.exp(frac * np.log(end / book.price)[None, :])
    return path, None
