"""Standard option margin (contract 6.2): Derive's Standard Risk Manager, exact.

Per position an isolated initial and maintenance margin; per underlying and expiry the
positions are netted against the worst loss of the expiry's portfolio at settlement. Every
figure is a product or sum of contract inputs and Black-76 values (irrational, held to the
200-digit context); nothing rounds here: the totals join the section-2 sums and are
rounded there, collateral down and debt up (:func:`xmargin.risk.health.weighted_sums`).

Margins M are <= 0 (a requirement); a short position's includes its mark-to-market.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from xmargin.mathlib import CTX, ZERO
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.options import OptionMarginParams, OptionParams
from xmargin.risk.options import ExpiryGroup, expiry_groups

__all__ = [
    "NO_OPTIONS",
    "ExpiryMargin",
    "OptionSums",
    "expiry_margin",
    "isolated_margin",
    "max_loss",
    "otm_fraction",
    "standard_option_sums",
]


def otm_fraction(option: OptionParams, spot: Decimal) -> Decimal:
    """OTM = max(K − S, 0)/S for a call, max(S − K, 0)/S for a put (contract 6.2).

    >>> from xmargin.model.options import OptionParams
    >>> c = OptionParams(name="C", underlying="A", settlement_asset="B", kind="call",
    ...                  strike=1600, expiry="2024-06-28T08:00:00Z", volatility=0)
    >>> otm_fraction(c, Decimal(1600)), otm_fraction(c, Decimal(1250))
    (Decimal('0'), Decimal('0.28'))
    """
    gap = option.strike - spot if option.is_call else spot - option.strike
    return CTX.divide(gap, spot) if gap > ZERO else ZERO


def isolated_margin(
    option: OptionParams,
    q: Decimal,
    spot: Decimal,
    mtm: Decimal,
    params: OptionMarginParams,
) -> tuple[Decimal, Decimal]:
    """(IM, MM) of one position on its own, in quote, <= 0 (contract 6.2).

    Notes
    -----
    For q < 0, m = max(min_spot_requirement, max_spot_requirement − OTM):

    - call: IM = mtm + m·S·q; MM = mtm + maintenance_spot_requirement·S·q;
    - put: MM = mtm + min(maintenance_spot_requirement·S·q,
      maintenance_mtm_requirement·mtm); IM = min(mtm + m·S·q, maintenance_offset_scale·MM).

    A long position (q > 0) has IM = MM = 0.
    """
    if q >= ZERO:
        return ZERO, ZERO
    m = max(params.min_spot_requirement, params.max_spot_requirement - otm_fraction(option, spot))
    sq = CTX.multiply(spot, q)  # quote/unit x units = quote (< 0)
    im = CTX.add(mtm, CTX.multiply(m, sq))
    if option.is_call:
        mm = CTX.add(mtm, CTX.multiply(params.maintenance_spot_requirement, sq))
        return im, mm
    mm = CTX.add(
        mtm,
        min(
            CTX.multiply(params.maintenance_spot_requirement, sq),
            CTX.multiply(params.maintenance_mtm_requirement, mtm),
        ),
    )
    return min(im, CTX.multiply(params.maintenance_offset_scale, mm)), mm


def _payoff(option: OptionParams, x: Decimal) -> Decimal:
    gain = x - option.strike if option.is_call else option.strike - x
    return gain if gain > ZERO else ZERO


def max_loss(group: ExpiryGroup) -> Decimal:
    """min over X ∈ {0} ∪ strikes of min(0, Σ q·payoff(X)): the worst loss of the expiry's
    portfolio at settlement, before the unpaired-call charge (contract 6.2), in quote."""
    points = {ZERO, *(leg.option.strike for leg in group.legs)}
    worst = ZERO
    for x in points:
        pnl = sum((CTX.multiply(leg.q, _payoff(leg.option, x)) for leg in group.legs), ZERO)
        worst = min(worst, pnl)
    return worst


class ExpiryMargin(NamedTuple):
    """M_IM and M_MM of one expiry (<= 0, quote), with its parts (contract 6.2)."""

    initial: Decimal
    maintenance: Decimal
    isolated_initial: Decimal
    isolated_maintenance: Decimal
    max_loss_initial: Decimal
    max_loss_maintenance: Decimal


def expiry_margin(group: ExpiryGroup, spot: Decimal, params: OptionMarginParams) -> ExpiryMargin:
    """Netting per underlying and expiry (contract 6.2).

    Notes
    -----
    M = max(Σ isolated, max_loss), where max_loss = :func:`max_loss` plus, when net calls
    are short (Σ call q < 0), ``unpaired_*_scale``·F·Σ call q (the IM and MM scale
    respectively).
    """
    iso_im = iso_mm = ZERO
    calls = ZERO
    for leg in group.legs:
        mtm = CTX.multiply(leg.q, leg.value)
        im, mm = isolated_margin(leg.option, leg.q, spot, mtm, params)
        iso_im += im
        iso_mm += mm
        if leg.option.is_call:
            calls += leg.q
    loss = max_loss(group)
    loss_im = loss_mm = loss
    if calls < ZERO:
        fq = CTX.multiply(group.forward, calls)  # quote/unit x units = quote (< 0)
        loss_im = CTX.add(loss, CTX.multiply(params.unpaired_initial_scale, fq))
        loss_mm = CTX.add(loss, CTX.multiply(params.unpaired_maintenance_scale, fq))
    return ExpiryMargin(
        max(iso_im, loss_im), max(iso_mm, loss_mm), iso_im, iso_mm, loss_im, loss_mm
    )


class OptionSums(NamedTuple):
    """What an account's options (and, under portfolio margin, its perps' margin and the
    balances of their underlyings) add to the section-2 sums, exact, in quote; and
    ``option_value`` Σ mtm."""

    collateral_value: Decimal
    debt_value: Decimal
    initial_collateral: Decimal
    initial_debt: Decimal
    maintenance_collateral: Decimal
    maintenance_debt: Decimal
    option_value: Decimal


NO_OPTIONS = OptionSums(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)


def standard_option_sums(account: Account, market: Market) -> OptionSums:
    """What ``account``'s options add under standard margin (contract 6.2).

    Notes
    -----
    Long mtm to ``collateral_value``, short |mtm| to ``debt_value``; per expiry −M_IM to
    ``initial_debt`` and −M_MM to ``maintenance_debt``.
    """
    if not account.options:
        return NO_OPTIONS
    params = market.option_margin
    cv = dv = id_ = md = total = ZERO
    for group in expiry_groups(account, market):
        for leg in group.legs:
            mtm = CTX.multiply(leg.q, leg.value)
            total += mtm
            if mtm > ZERO:
                cv += mtm
            else:
                dv -= mtm
        margin = expiry_margin(group, market.assets[group.underlying].price, params)
        id_ -= margin.initial
        md -= margin.maintenance
    return OptionSums(cv, dv, ZERO, id_, ZERO, md, total)
