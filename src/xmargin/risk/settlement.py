"""Settlement of perp positions into the settlement asset (contract 5.3), one function per
step: funding, entry price, realised PnL, and the flow of quote value into a balance.

Pure with respect to the market: flows change the ``Account`` they are given (a copy
that the ledger commits, or drops when the action is refused).

Rounding (docs/rounding.md): a credit to the account rounds its units down, a debit
rounds them up; an averaged entry price rounds against the trader (up for a long, down
for a short). Every value in quote is exact.
"""

from __future__ import annotations

from decimal import Decimal

from xmargin.mathlib import CTX, ZERO, div_down, div_up
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.perps import PerpParams, PerpPosition

__all__ = [
    "PRICE_DECIMALS",
    "apply_flow",
    "average_entry_price",
    "funding_payment",
    "realized_pnl",
]

#: Places of an averaged entry price (quote per unit).
PRICE_DECIMALS = 18


def funding_payment(pos: PerpPosition, perp: PerpParams) -> Decimal:
    """What the account pays for unsettled funding, in quote (contract 5.3 step 1):
    q·(F − f); negative when it receives.

    >>> from xmargin.model.perps import PerpPosition
    >>> p = PerpParams(name="X", underlying="A", settlement_asset="B", initial_margin=0.1,
    ...                maintenance_margin=0.05, funding_index=3)
    >>> funding_payment(PerpPosition(Decimal(2), Decimal(100), Decimal(1)), p)
    Decimal('4')
    """
    return CTX.multiply(pos.size, CTX.subtract(perp.funding_index, pos.funding_index))


def average_entry_price(q: Decimal, entry: Decimal, delta: Decimal, price: Decimal) -> Decimal:
    """E := (|q|·E + |δ|·X)/(|q| + |δ|) for a trade in q's direction (contract 5.3 step 2).

    Rounded to ``PRICE_DECIMALS`` against the trader: up for a long (a higher entry
    lowers its PnL), down for a short. Opening (q = 0) gives X exactly.
    """
    if not q:
        return price
    a, d = abs(q), abs(delta)
    num = CTX.add(CTX.multiply(a, entry), CTX.multiply(d, price))
    den = CTX.add(a, d)
    if q > ZERO:
        return div_up(num, den, PRICE_DECIMALS)
    return div_down(num, den, PRICE_DECIMALS)


def realized_pnl(closed: Decimal, price: Decimal, entry: Decimal, q: Decimal) -> Decimal:
    """c·(X − E)·sign(q), in quote: what closing ``closed`` base units of q realises
    (contract 5.3 step 2), exact.

    >>> realized_pnl(Decimal(1), Decimal(110), Decimal(100), Decimal(-3))
    Decimal('-10')
    """
    gain = CTX.multiply(closed, CTX.subtract(price, entry))
    return gain if q > ZERO else -gain


def apply_flow(account: Account, market: Market, asset: str, value: Decimal) -> Decimal:
    """Move ``value`` of quote into (> 0) or out of (< 0) ``account``'s balance of
    ``asset`` (contract 5.3 step 3); returns the units moved, signed.

    Notes
    -----
    units = value / price of ``asset`` (quote / (quote/unit) = units). A credit repays
    the asset's borrow first and supplies the rest; a debit draws its supply first and
    borrows the rest. Rounds in favour of the protocol: a credit's units down, a debit's
    up, to the asset's decimals. Not gated by caps, borrowability or isolation: a flow is
    the consequence of a position, as a write-off is (docs/contract.md 5.8).
    """
    if not value:
        return ZERO
    ap = market.assets[asset]
    s, b = account.supplied(asset), account.borrowed(asset)
    if value > ZERO:
        units = div_down(value, ap.price, ap.decimals)  # credit: rounds down
        repaid = min(units, b)
        account.set_borrow(asset, b - repaid)
        account.set_supply(asset, s + (units - repaid))
        return units
    units = div_up(-value, ap.price, ap.decimals)  # debit: rounds up
    drawn = min(units, s)
    account.set_supply(asset, s - drawn)
    account.set_borrow(asset, b + (units - drawn))
    return -units
