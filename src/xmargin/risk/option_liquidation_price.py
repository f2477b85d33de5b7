"""The liquidation price of an account whose margin is not linear in the price (contract
6.4): options (Black-76 values, the per-expiry maxima of 6.2), portfolio margin (6.3) or
a perp with its own mark price. Solved with a bracketing root finder.

1. Bracket: from the current price p₀, step outward in both directions alternately on a
   geometric grid (ln-steps of 0.02 out to ±0.5, then doubling out to ±20, i.e. ×e^±20)
   until the account's state (liquidatable or not: maintenance_debt > 0 and
   maintenance_collateral < maintenance_debt, exact) differs from its state at p₀. The
   first change found is the nearest on the grid; a band narrower than a grid step can
   be missed, as by any bracketing method.
2. Bisect the bracket until its width is at most 1e-12 of its lower end.
3. Report the end on the current price's side (toward danger: the price is reached no
   later than the exact root), rounded to 18 places toward p₀.

Every evaluation re-prices the asset with :meth:`Market.with_prices`: forwards and perp
marks on it follow proportionally (6.1).
"""

from __future__ import annotations

from decimal import Decimal

from xmargin.mathlib import (
    CTX,
    HF_DECIMALS,
    ONE,
    ZERO,
    div_down,
    div_up,
    quantize_down,
    quantize_up,
)
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod
from xmargin.risk.health import is_liquidatable, weighted_sums

__all__ = ["ROOT_TOLERANCE", "liquidation_price_by_root", "needs_root_finder"]

#: Relative width at which the bisection stops.
ROOT_TOLERANCE = Decimal("1e-12")
_PRICE_DECIMALS = 18


def _grid() -> list[Decimal]:
    fine = [Decimal("0.02") * k for k in range(1, 26)]
    coarse = [Decimal(2) ** j for j in range(0, 5)] + [Decimal(20)]
    return fine + coarse


_STEPS = _grid()


def needs_root_finder(account: Account, market: Market) -> bool:
    """Whether ``account``'s maintenance margin is non-linear in a price: it holds options,
    is portfolio-margined, or holds a perp with its own mark price."""
    return bool(
        account.options
        or (account.margin is MarginMethod.PORTFOLIO and account.perps)
        or any(market.perps[n].mark_price is not None for n in account.perps)
    )


def _liquidatable_at(market: Market, account_id: str, asset: str, price: Decimal) -> bool:
    view = market.with_prices({asset: price})
    sums = weighted_sums(view.accounts[account_id], view)
    return is_liquidatable(sums.maintenance_collateral, sums.maintenance_debt)


def liquidation_price_by_root(
    market: Market, account_id: str, asset: str
) -> tuple[Decimal | None, Decimal | None]:
    """(price, change) of ``asset`` at which ``account_id``'s state changes (module
    docstring), ``(None, None)`` when none is found on the grid."""
    p0 = market.assets[asset].price
    state0 = _liquidatable_at(market, account_id, asset, p0)
    bracket: tuple[Decimal, Decimal] | None = None
    inner = {"down": p0, "up": p0}
    for step in _STEPS:
        for side, factor in (("down", CTX.exp(-step)), ("up", CTX.exp(step))):
            p = CTX.multiply(p0, factor)
            if _liquidatable_at(market, account_id, asset, p) != state0:
                bracket = (inner[side], p)  # (same state as p0, changed)
                break
            inner[side] = p
        if bracket is not None:
            break
    if bracket is None:
        return None, None
    near, far = bracket
    while abs(far - near) > CTX.multiply(ROOT_TOLERANCE, min(near, far)):
        mid = CTX.divide(near + far, 2)
        if _liquidatable_at(market, account_id, asset, mid) == state0:
            near = mid
        else:
            far = mid
    # Toward the current price: the reported price is reached no later than the root.
    if near < p0 or (near == p0 and far < p0):
        price = quantize_up(near, _PRICE_DECIMALS)
        change = div_up(price, p0, HF_DECIMALS) - ONE
    else:
        price = quantize_down(near, _PRICE_DECIMALS)
        change = div_down(price, p0, HF_DECIMALS) - ONE
    if price <= ZERO:
        return None, None
    return price, change
