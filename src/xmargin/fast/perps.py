"""Float twins of :mod:`xmargin.risk.perps` (contract 5.1, 5.2, 5.6): perp positions.

Per position, :func:`perp_sums` gives what it adds to the six sums of section 2, as
:func:`xmargin.fast.health.weighted_sums` does for a balance; an account's perp figures
are their sums over its positions, with the initial PnL capped once per account
(:func:`cap_initial_pnl`, ``pnl_initial_cap``), as the exact
:func:`xmargin.risk.perps.perp_sums` does. :func:`perp_maintenance_line` is a position's
share of mc − md as a line in its underlying's price (the liquidation price with perps).

Every function is an :func:`~xmargin.fast.backend.elementwise` rule: scalars inside the
Numba kernels, whole columns in the NumPy ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xmargin.fast.backend import elementwise, select
from xmargin.fast.weights import size_haircut_liability_weight_up

__all__ = [
    "cap_initial_pnl",
    "effective_margin_up",
    "liquidation_fees",
    "max_closable",
    "notional",
    "perp_maintenance_line",
    "perp_maintenance_terms",
    "perp_sums",
    "pnl",
    "realized_pnl",
]


@elementwise
def notional(q: Any, price: Any) -> Any:
    """|q|·P, in quote (units x quote/unit)."""
    return np.abs(q) * price


@elementwise
def pnl(q: Any, price: Any, entry: Any, index: Any, entry_index: Any) -> Any:
    """q·(P − E) − q·(F − f), in quote: unrealised PnL with unsettled funding."""
    return q * (price - entry) - q * (index - entry_index)


@elementwise
def effective_margin_up(r: Any, k: Any, q: Any) -> Any:
    """min(1, max(r, 0.8·r + k·sqrt(|q|))); ``r`` when k = 0 (float twin; the exact one
    rounds the square root up)."""
    return select(k > 0.0, np.minimum(1.0, size_haircut_liability_weight_up(r, k, np.abs(q))), r)


@elementwise
def perp_sums(
    q: Any,
    price: Any,
    entry: Any,
    index: Any,
    entry_index: Any,
    r_i: Any,
    r_m: Any,
    k: Any,
    w: Any,
) -> Any:
    """(cv, dv, ic, id, mc, md) terms of one position, in quote (contract 5.2).

    ``r_i``/``r_m``: the perp's initial and maintenance margins before the size factor
    ``k``; ``w``: its ``pnl_initial_weight``. The ``ic`` term is before the account's
    ``pnl_initial_cap`` (:func:`cap_initial_pnl` on the sum of an account's terms).

    Notes
    -----
    With x = pnl and n = notional: cv = mc = max(x, 0); dv = max(−x, 0);
    ic = max(x, 0)·w; id = max(−x, 0) + n·r_i_eff; md = max(−x, 0) + n·r_m_eff.
    """
    n = notional(q, price)
    x = pnl(q, price, entry, index, entry_index)
    gain = np.maximum(x, 0.0)
    loss = np.maximum(-x, 0.0)
    im = n * effective_margin_up(r_i, k, q)
    mm = n * effective_margin_up(r_m, k, q)
    return gain, loss, gain * w, loss + im, gain, loss + mm


@elementwise
def perp_maintenance_terms(
    q: Any, price: Any, entry: Any, index: Any, entry_index: Any, r_m_eff: Any
) -> Any:
    """(mc, md) terms of one position, as :func:`perp_sums` gives them, from its effective
    maintenance margin ``r_m_eff`` (:func:`effective_margin_up`, which depends on |q|
    only: the risk book keeps it per position, out of its hot loop)."""
    x = pnl(q, price, entry, index, entry_index)
    return np.maximum(x, 0.0), np.maximum(-x, 0.0) + notional(q, price) * r_m_eff


@elementwise
def cap_initial_pnl(ic: Any, cap: Any) -> Any:
    """An account's summed ``ic`` perp terms under ``pnl_initial_cap`` (``inf``: none)."""
    return np.minimum(ic, cap)


@elementwise
def perp_maintenance_line(
    on_asset: Any,
    q: Any,
    price: Any,
    entry: Any,
    index: Any,
    entry_index: Any,
    r_m: Any,
    k: Any,
) -> Any:
    """(net0, slope): one position's share of mc − md as ``net0 + slope·p`` in the price p
    of one asset (float twin of :func:`xmargin.risk.perps.perp_maintenance_line`, per
    position; an account's line is the sum of its positions').

    Notes
    -----
    A position adds pnl − |q|·P·r_m. On a perp whose underlying is the asset
    (``on_asset``, P = p): slope q − |q|·r_m, net0 −q·E − q·(F − f); on any other perp a
    constant, at its price ``price``.
    """
    rm = effective_margin_up(r_m, k, q)
    slope = select(on_asset, q - np.abs(q) * rm, 0.0)
    moving = -q * entry - q * (index - entry_index)
    fixed = pnl(q, price, entry, index, entry_index) - notional(q, price) * rm
    return select(on_asset, moving, fixed), slope


# -- contract 5.4: liquidation of a perp position ----------------------------------------------
@elementwise
def max_closable(
    hf: Any, q: Any, price: Any, full_health: Any, small_value: Any, close_factor: Any, scale: Any
) -> Any:
    """The most base units of q that may be closed now (float twin of
    :func:`xmargin.risk.perp_liquidation.max_closable`): all of |q| if hf <=
    ``full_health`` or |q|·P < ``small_value``, else ``close_factor``·|q| rounded down to
    the underlying's decimals (``scale`` = 10**decimals)."""
    size = np.abs(q)
    whole = (hf <= full_health) | (notional(q, price) < small_value)
    return select(whole, size, np.floor(close_factor * size * scale) / scale)


@elementwise
def liquidation_fees(closed: Any, price: Any, liquidation_fee: Any, insurance_fee: Any) -> Any:
    """(liquidator_fee, insurance_fee) in quote: closed·P times each fee (float twin of
    :func:`xmargin.risk.perp_liquidation.liquidation_fees`)."""
    value = closed * price
    return value * liquidation_fee, value * insurance_fee


@elementwise
def realized_pnl(closed: Any, price: Any, entry: Any, q: Any) -> Any:
    """c·(X − E)·sign(q), in quote (float twin of
    :func:`xmargin.risk.settlement.realized_pnl`)."""
    gain = closed * (price - entry)
    return select(q > 0.0, gain, -gain)
