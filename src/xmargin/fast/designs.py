"""Float twins of the liquidation designs' rules (contract 8), one per exact rule.

Same names, symbols and argument order as the exact engine's functions in
:mod:`xmargin.risk.target_health`, :mod:`~xmargin.risk.auction_curves`,
:mod:`~xmargin.risk.auction`, :mod:`~xmargin.risk.storefront`,
:mod:`~xmargin.risk.socialized_loss` and :mod:`~xmargin.risk.adl`, without the rounding
to decimals (amounts stand within a unit of the exact ones) and with ``NaN`` where the
exact rule answers ``None``. Property-tested equal to them
(``tests/properties/test_design_float_twins.py``). The cascade's design step
(:mod:`xmargin.analytics.cascade.designs`) calls them; nothing else keeps a copy.

Each function is :func:`~xmargin.fast.backend.elementwise`: scalars or NumPy columns alike,
and callable from Numba kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xmargin.fast.backend import elementwise, select

__all__ = [
    "LINEAR",
    "STEP_EXPONENTIAL",
    "TWO_SPEED",
    "adl_ranking",
    "adl_score",
    "auction_price",
    "bankruptcy_price",
    "buffer_margin",
    "debt_to_liquidate",
    "debt_to_target",
    "funding_delta_to_resolve_bankruptcy",
    "keeper_incentive",
    "linear_decrease",
    "max_fraction",
    "quote_collateral",
    "scaled_balance",
    "stairstep_exponential_decrease",
    "store_front_price",
    "supply_index_after_loss",
    "two_speed_decrease",
    "variable_liquidation_bonus",
]

#: Auction curves (:class:`xmargin.model.liquidation_params.AuctionCurve`) as integer codes.
LINEAR, STEP_EXPONENTIAL, TWO_SPEED = 0, 1, 2


# -- contract 8.1: Aave v4's target health factor ----------------------------------------
@elementwise
def variable_liquidation_bonus(
    max_bonus: Any, hf: Any, hf_for_max_bonus: Any, bonus_factor: Any
) -> Any:
    """lb = 1 + β at health ``hf``: maxLB at or below hf_for_max_bonus, else
    minLB + (maxLB − minLB)·(1 − hf)/(1 − hf_for_max_bonus), at most maxLB."""
    max_lb = 1.0 + max_bonus
    min_lb = max_bonus * bonus_factor + 1.0
    span = (max_lb - min_lb) * (1.0 - hf) / (1.0 - hf_for_max_bonus)
    return select(hf <= hf_for_max_bonus, max_lb, np.minimum(max_lb, min_lb + span))


@elementwise
def debt_to_target(mc: Any, md: Any, thf: Any, lb: Any, lt: Any, w: Any, p_debt: Any) -> Any:
    """Units of debt whose repayment brings health to ``thf``:
    max(0, THF·md − mc)/(THF·w − lb·lt)/p_debt; NaN where THF·w <= lb·lt (no repayment
    of this pair reaches the target; the exact twin answers ``None``)."""
    den = thf * w - lb * lt
    ok = den > 0.0
    value = np.maximum((thf * md - mc) / select(ok, den, 1.0), 0.0)
    return select(ok, value / p_debt, np.nan)


@elementwise
def debt_to_liquidate(
    requested: Any, d: Any, to_target: Any, p_debt: Any, min_leftover_value: Any
) -> Any:
    """x = min(requested, d, to_target) (``inf``/NaN: no limit); all of ``d`` when the
    debt left would be worth less than min_leftover_value (Aave v4's dust rule)."""
    x = np.minimum(d, select(np.isnan(requested), np.inf, requested))  # NaN: no limit
    x = np.minimum(x, select(np.isnan(to_target), np.inf, to_target))
    dust = (x < d) & ((d - x) * p_debt < min_leftover_value)
    return select(dust, d, x)


# -- contract 8.2: auction price curves, Derive's fraction, the keeper's incentive --------
@elementwise
def linear_decrease(dur: Any, tau: Any) -> Any:
    """Maker's ``LinearDecrease``: (tau − dur)/tau, 0 from tau on."""
    return select(dur >= tau, 0.0, (tau - dur) / tau)


@elementwise
def stairstep_exponential_decrease(dur: Any, step: Any, cut: Any) -> Any:
    """Maker's ``StairstepExponentialDecrease``: cut^⌊dur/step⌋."""
    return cut ** np.floor(dur / step)


@elementwise
def two_speed_decrease(dur: Any, fast_floor: Any, fast_seconds: Any, slow_seconds: Any) -> Any:
    """Derive's two speeds: 1 → fast_floor over ``fast_seconds``, then → 0 over
    ``slow_seconds``."""
    early = 1.0 - (1.0 - fast_floor) * dur / fast_seconds
    late = dur - fast_seconds
    slow = select(late >= slow_seconds, 0.0, fast_floor * (slow_seconds - late) / slow_seconds)
    return select(dur <= fast_seconds, early, slow)


@elementwise
def auction_price(
    curve: int,
    tau: Any,
    step: Any,
    cut: Any,
    fast_floor: Any,
    fast_seconds: Any,
    slow_seconds: Any,
    top: Any,
    dur: Any,
) -> Any:
    """top × the multiplier of ``curve`` (one number for the market: :data:`LINEAR`,
    :data:`STEP_EXPONENTIAL`, :data:`TWO_SPEED`) after ``dur`` seconds. The exact twin
    reads the curve's parameters from the market's ``AuctionParams``."""
    if curve == LINEAR:
        return top * linear_decrease(dur, tau)
    if curve == STEP_EXPONENTIAL:
        return top * stairstep_exponential_decrease(dur, step, cut)
    return top * two_speed_decrease(dur, fast_floor, fast_seconds, slow_seconds)


@elementwise
def buffer_margin(mm: Any, mtm: Any, buffer: Any) -> Any:
    """Derive's BM = MM − buffer·(MtM − MM), in quote."""
    return mm - buffer * (mtm - mm)


@elementwise
def max_fraction(bm: Any, bid: Any) -> Any:
    """Derive's fraction a bidder may take: BM/(BM − bid) for BM < 0 (else 0), at most 1
    (1 where bid <= BM < 0: no fraction restores the buffer)."""
    den = bm - bid
    f = np.minimum(1.0, bm / select(den < 0.0, den, -1.0))
    return select(bm >= 0.0, 0.0, select(den >= 0.0, 1.0, f))


@elementwise
def keeper_incentive(tip: Any, chip: Any, tab: Any, p_debt: Any) -> Any:
    """Maker's ``coin`` = tip + tab·chip, in units of the debt asset (``tip`` in quote)."""
    return (tip + tab * chip * p_debt) / p_debt


# -- contract 8.3: Compound v3's storefront ----------------------------------------------
@elementwise
def store_front_price(price: Any, spf: Any, lf: Any) -> Any:
    """price·(1 − store_front_price_factor·(1 − lf)), quote per unit."""
    return price * (1.0 - spf * (1.0 - lf))


@elementwise
def quote_collateral(base_amount: Any, p_base: Any, discounted: Any) -> Any:
    """Units of collateral ``base_amount`` of the base buys at the ``discounted`` price."""
    return base_amount * p_base / discounted


# -- contract 8.4: the loss waterfall ----------------------------------------------------
@elementwise
def funding_delta_to_resolve_bankruptcy(loss_value: Any, oi_long: Any, oi_short: Any) -> Any:
    """Drift's Δ = loss/(|OI long| + |OI short|), quote per unit of base."""
    return loss_value / (np.abs(oi_long) + np.abs(oi_short))


@elementwise
def supply_index_after_loss(index: Any, loss: Any, total_supply: Any) -> Any:
    """index·(1 − loss/total_supply): depositors bear the loss pro rata."""
    return index * ((total_supply - loss) / total_supply)


@elementwise
def scaled_balance(s: Any, loss: Any, total_supply: Any) -> Any:
    """s·(total_supply − loss)/total_supply: one depositor's balance after the loss."""
    return s * (total_supply - loss) / total_supply


@elementwise
def bankruptcy_price(price: Any, value: Any, q: Any) -> Any:
    """X_b = P − V/q: closing q at X_b moves the net value V to 0 (dYdX)."""
    return price - value / q


@elementwise
def adl_score(position_pnl: Any, q: Any, entry: Any, price: Any, value: Any) -> Any:
    """PnL × leverage = pnl·P/(E·V); ``q`` cancels (kept for the exact twin's order)."""
    return position_pnl * price / (entry * value)


def adl_ranking(position_pnl: Any, q: Any, entry: Any, price: float, value: Any, side: int) -> Any:
    """Indices of the positions ADL closes against, in order: those on ``side`` (+1 long,
    −1 short) with pnl > 0 and a positive net value, by :func:`adl_score`, highest
    first; ties by index (the exact twin's account order). Arrays of one position per
    account, accounts in id order; not elementwise (it sorts), NumPy only."""
    pnl, size = np.asarray(position_pnl, np.float64), np.asarray(q, np.float64)
    v = np.asarray(value, np.float64)
    ok = np.flatnonzero((np.sign(size) == side) & (pnl > 0.0) & (v > 0.0))
    score = adl_score(pnl[ok], size[ok], np.asarray(entry, np.float64)[ok], price, v[ok])
    return ok[np.argsort(-score, kind="stable")]
