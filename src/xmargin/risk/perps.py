"""Perp position figures (contract 5.1) and what they add to an account's sums (5.2).

Everything here is exact: products and sums of contract inputs in the 200-digit
context. The only rounded quantity is the effective margin ratio under the size factor
(an irrational square root), which rounds up, against the trader. The totals are rounded
by :func:`xmargin.risk.health.weighted_sums` with the spot sums, collateral down and debt
up.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import NamedTuple

from xmargin.mathlib import CTX, ONE, ZERO
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.perps import PerpParams, PerpPosition
from xmargin.risk.weights import size_haircut_liability_weight_up

__all__ = [
    "PerpLine",
    "PerpSums",
    "effective_margin_up",
    "notional",
    "perp_maintenance_line",
    "perp_sums",
    "pnl",
]


def notional(q: Decimal, price: Decimal) -> Decimal:
    """|q|·P, in quote (contract 5.1): units x quote/unit = quote.

    >>> notional(Decimal("-2"), Decimal("1800"))
    Decimal('3600')
    """
    return CTX.multiply(abs(q), price)


def pnl(
    q: Decimal, price: Decimal, entry: Decimal, index: Decimal, entry_index: Decimal
) -> Decimal:
    """Unrealised PnL including unsettled funding, in quote (contract 5.1).

    Notes
    -----
    With P = ``price``, E = ``entry``, F = ``index`` and f = ``entry_index``:

    .. math:: pnl = q (P - E) - q (F - f)

    A rise of F makes longs pay shorts.

    >>> pnl(Decimal(100), Decimal(100), Decimal(90), Decimal(0), Decimal(0))
    Decimal('1000')
    """
    move = CTX.multiply(q, CTX.subtract(price, entry))
    return CTX.subtract(move, CTX.multiply(q, CTX.subtract(index, entry_index)))


def effective_margin_up(r: Decimal, k: Decimal, q: Decimal) -> Decimal:
    """r_eff = min(1, max(r, 0.8·r + k·sqrt(|q|))), rounded up (contract 5).

    The size factor's square root rounds up, against the trader, through the liability
    weight's helper (the same formula without the cap at 1). ``k = 0`` gives ``r``.
    """
    if not k:
        return r
    return min(ONE, size_haircut_liability_weight_up(r, k, abs(q)))


class PerpSums(NamedTuple):
    """An account's perp contributions to the section-2 sums (contract 5.2), exact, in quote.

    ``collateral_value`` and ``maintenance_collateral`` gain ``positive_pnl``;
    ``debt_value`` gains ``negative_pnl``; ``initial_collateral`` gains ``initial_pnl``;
    ``initial_debt`` gains ``negative_pnl + initial_margin``; ``maintenance_debt`` gains
    ``negative_pnl + maintenance_margin``.
    """

    positive_pnl: Decimal
    negative_pnl: Decimal
    initial_pnl: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    notional: Decimal
    pnl: Decimal


NO_PERPS = PerpSums(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)


def _figures(pos: PerpPosition, perp: PerpParams, price: Decimal) -> tuple[Decimal, Decimal]:
    """(notional, pnl) of one position at oracle price ``price``."""
    q = pos.size
    return notional(q, price), pnl(q, price, pos.entry_price, perp.funding_index, pos.funding_index)


def perp_sums(account: Account, market: Market) -> PerpSums:
    """What ``account``'s positions add to its sums (contract 5.2), exact.

    Notes
    -----
    Per position: max(pnl, 0) to cv and mc, max(−pnl, 0) to dv, max(pnl, 0)·w to ic (the
    sum over positions capped at ``pnl_initial_cap``), max(−pnl, 0) + notional·r_i_eff to
    id and max(−pnl, 0) + notional·r_m_eff to md.
    """
    if not account.perps:
        return NO_PERPS
    perps = market.perps
    with localcontext(CTX):
        pos_pnl = neg_pnl = ic = im = mm = total_notional = total_pnl = ZERO
        for name, pos in account.perps.items():
            perp = perps[name]
            n, x = _figures(pos, perp, market.perp_price(perp))
            total_notional += n
            total_pnl += x
            if x > ZERO:
                pos_pnl += x
                ic += x * perp.pnl_initial_weight
            else:
                neg_pnl -= x
            k = perp.size_factor
            im += n * effective_margin_up(perp.initial_margin, k, pos.size)
            mm += n * effective_margin_up(perp.maintenance_margin, k, pos.size)
    cap = market.params.pnl_initial_cap
    if cap is not None and ic > cap:
        ic = cap
    return PerpSums(pos_pnl, neg_pnl, ic, im, mm, total_notional, total_pnl)


class PerpLine(NamedTuple):
    """mc − md of an account's perps as a line in one asset's price p: ``net0 + slope·p``."""

    net0: Decimal
    slope: Decimal


def perp_maintenance_line(account: Account, market: Market, asset: str) -> PerpLine:
    """The perps' share of maintenance_collateral − maintenance_debt, linear in ``asset``'s
    price p (contract 5.2, 5.6), exact.

    Notes
    -----
    Each position adds max(pnl, 0) − max(−pnl, 0) − notional·r_m = pnl − |q|·P·r_m. On a
    perp whose underlying is ``asset`` (P = p) that is
    p·(q − |q|·r_m) − q·E − q·(F − f); on any other perp it is a constant.
    """
    net0 = slope = ZERO
    with localcontext(CTX):
        for name, pos in account.perps.items():
            perp = market.perps[name]
            q = pos.size
            r_m = effective_margin_up(perp.maintenance_margin, perp.size_factor, q)
            if perp.underlying == asset:
                slope += q - abs(q) * r_m
                net0 -= q * pos.entry_price + q * (perp.funding_index - pos.funding_index)
            else:
                n, x = _figures(pos, perp, market.perp_price(perp))
                net0 += x - n * r_m
    return PerpLine(net0, slope)
