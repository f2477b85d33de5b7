"""The price of one asset at which an account's health factor is exactly 1 (contract 4,
5.6), solved exactly: no search.

Weights depend on units, not prices, so mc and md are linear in the price p of the asset:
mc(p) = mc₀ + s·lt·p and md(p) = md₀ + b·mbw·p. Perps on that asset move with it (their
oracle price is p), and their share of mc − md is pnl − |q|·p·r_m, also linear, because
max(pnl, 0) − max(−pnl, 0) = pnl. So mc − md = net₀ + slope·p and health 1 is reached at
p* = −net₀ / slope, with slope = s·lt − b·mbw + Σ (q − |q|·r_m) over perps on the asset.

An account with options, portfolio margin or a perp with its own mark price is not linear
in p: it is solved by a bracketing root finder to 1e-12 relative
(:mod:`xmargin.risk.option_liquidation_price`), and the result says so (``method``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from xmargin.mathlib import CTX, HF_DECIMALS, ONE, ZERO, div_down, div_up, exact
from xmargin.model.market import Market
from xmargin.risk.option_liquidation_price import (
    ROOT_TOLERANCE,
    liquidation_price_by_root,
    needs_root_finder,
)
from xmargin.risk.perps import perp_maintenance_line
from xmargin.risk.weights import effective_weights

__all__ = ["LiquidationPrice", "liquidation_price"]

PRICE_DECIMALS = 18


class LiquidationPrice(NamedTuple):
    account: str
    asset: str
    current_price: Decimal
    price: Decimal | None
    change: Decimal | None
    #: ``"closed_form"`` (the linear solution) or ``"root_finder"`` (contract 6.4)
    method: str = "closed_form"
    #: relative width of the root finder's bracket; ``None`` for the closed form
    tolerance: Decimal | None = None


@exact
def liquidation_price(market: Market, account_id: str, asset: str) -> LiquidationPrice:
    """Price of ``asset`` (quote per unit) at which health_factor = 1, others fixed.

    Notes
    -----
    p* = (md₀ − mc₀ − Σ perps' net₀)/(s·lt − b·mbw + Σ (q − |q|·r_m)), where mc₀, md₀
    are the maintenance sums over the other assets and the perps' terms those of
    :func:`~xmargin.risk.perps.perp_maintenance_line` (contract 5.6: each perp's P moves
    with its underlying). ``None`` when no p* > 0 exists (no exposure, no debt and no
    perp, or the account can never reach health 1 through this price). Rounded toward
    danger: up when a fall in price liquidates (net collateral), down when a rise does
    (net debt), so the figure warns no later than the exact one. change = p*/current − 1,
    rounded the same way.

    Examples
    --------
    Hyperliquid's: 1 BTC long at 100 with 10 of USDC margin and 2.5 % maintenance margin
    is liquidated at (q·E − C)/(q·(1 − r)) = 90/0.975 = 92.3077 (the short: 107.3171).
    """
    account = market.account(account_id)
    ap = market.asset(asset)
    if needs_root_finder(account, market):
        price, change = liquidation_price_by_root(market, account_id, asset)
        return LiquidationPrice(
            account_id, asset, ap.price, price, change, "root_finder", ROOT_TOLERANCE
        )
    category = market.category_of(account)
    mc0 = md0 = ZERO
    slope = ZERO  # d(mc − md)/dp, in units
    for a in set(account.supply) | set(account.borrow):
        s, b = account.supplied(a), account.borrowed(a)
        w = effective_weights(market.assets[a], category, s, b)
        if a == asset:
            slope = CTX.subtract(
                CTX.multiply(s, w.liquidation_threshold),
                CTX.multiply(b, w.maintenance_borrow_weight),
            )
            continue
        p = market.assets[a].price
        mc0 += CTX.multiply(CTX.multiply(s, p), w.liquidation_threshold)
        md0 += CTX.multiply(CTX.multiply(b, p), w.maintenance_borrow_weight)
    line = perp_maintenance_line(account, market, asset)
    slope += line.slope
    current = ap.price
    if not slope or not (account.borrow or account.perps):
        return LiquidationPrice(account_id, asset, current, None, None)
    gap = md0 - mc0 - line.net0
    if slope > ZERO:
        price = div_up(gap, slope, PRICE_DECIMALS)
        change = div_up(price, current, HF_DECIMALS) - ONE
    else:
        price = div_down(gap, slope, PRICE_DECIMALS)
        change = div_down(price, current, HF_DECIMALS) - ONE
    if price <= ZERO:
        return LiquidationPrice(account_id, asset, current, None, None)
    return LiquidationPrice(account_id, asset, current, price, change)
