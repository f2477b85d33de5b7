"""Greeks of an account, per underlying (docs/contract.md 6.5 ``greeks``), exact-path.

For an underlying U with price S, the account's mark value on U is
V(S, σ, t) = Σ q·Black-76(F, K, σ, τ, D) over its options on U (F = F₀·S/S₀: the forward
follows spot, 6.1) + Σ pnl over its perps on U (P = P₀·S/S₀) + (supply − borrow of U)·S.

- ``delta`` ∂V/∂S, in units of U: Σ q·∂C/∂F·F/S + Σ q·P/S + (supply − borrow);
- ``gamma`` ∂²V/∂S², units of U per quote: Σ q·∂²C/∂F²·(F/S)²;
- ``vega`` ∂V/∂σ, quote per 1.00 of volatility (per vol point: / 100);
- ``theta`` ∂V/∂t, quote per day of calendar time (F and σ held): −Σ q·∂C/∂τ/365.

Only options have gamma, vega and theta. An expired, unsettled option is valued at its
settlement value (F = S, D = 1). Each greek is rounded down to 18 places (display
figures, not money; docs/rounding.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from xmargin.mathlib import CTX, ZERO, exact, quantize_down
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.black76 import black76_greeks
from xmargin.risk.options import expiry_groups

__all__ = ["GREEK_DECIMALS", "Greeks", "account_greeks", "exposure_underlyings"]

#: Places of a reported greek.
GREEK_DECIMALS = 18
_DAYS_PER_YEAR = Decimal(365)


class Greeks(NamedTuple):
    """The greeks of one account on one underlying (module docstring for units)."""

    underlying: str
    spot: Decimal
    delta: Decimal
    gamma: Decimal
    vega: Decimal
    theta: Decimal


def exposure_underlyings(account: Account, market: Market) -> list[str]:
    """The underlyings (assets under an option or perp of the market) the account is
    exposed to through an option, a perp or a balance, in the market's asset order."""
    underlying = {o.underlying for o in market.options.values()}
    underlying.update(p.underlying for p in market.perps.values())
    held = {market.options[n].underlying for n in account.options}
    held.update(market.perps[n].underlying for n in account.perps)
    held.update(a for a in (*account.supply, *account.borrow) if a in underlying)
    return [a for a in market.assets if a in held]


@exact
def account_greeks(market: Market, account_id: str) -> list[Greeks]:
    """Delta, gamma, vega and theta of ``account_id`` per underlying (module docstring)."""
    account = market.account(account_id)
    names = exposure_underlyings(account, market)
    acc: dict[str, list[Decimal]] = {u: [ZERO, ZERO, ZERO, ZERO] for u in names}
    for u in names:
        acc[u][0] = account.supplied(u) - account.borrowed(u)
    for name, pos in account.perps.items():
        perp = market.perps[name]
        spot = market.assets[perp.underlying].price
        acc[perp.underlying][0] += CTX.divide(CTX.multiply(pos.size, market.perp_price(perp)), spot)
    for group in expiry_groups(account, market):
        spot = market.assets[group.underlying].price
        ratio = CTX.divide(group.forward, spot)  # dF/dS
        totals = acc[group.underlying]
        for leg in group.legs:
            g = black76_greeks(
                leg.option.is_call,
                leg.forward,
                leg.option.strike,
                leg.option.volatility,
                leg.tau,
                leg.discount,
                leg.option.rate if leg.tau else ZERO,
            )
            q = leg.q
            totals[0] += CTX.multiply(q, CTX.multiply(g.delta_forward, ratio))
            totals[1] += CTX.multiply(q, CTX.multiply(g.gamma_forward, ratio * ratio))
            totals[2] += CTX.multiply(q, g.vega)
            totals[3] -= CTX.divide(CTX.multiply(q, g.dtau), _DAYS_PER_YEAR)
    return [
        Greeks(
            u,
            market.assets[u].price,
            *(quantize_down(x, GREEK_DECIMALS) for x in acc[u]),
        )
        for u in names
    ]
