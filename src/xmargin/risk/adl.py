"""Auto-deleveraging (dYdX, contract 8.4): the last step of the loss waterfall, as a quote.

An account whose net value is below zero, with a shortfall the insurance fund cannot
cover, has its position in a perp closed at the bankruptcy price against the most
profitable opposite positions: the price at which closing it leaves the account's net
value at zero, so that the counterparties, not the protocol, bear the shortfall. They are
ranked by PnL × leverage (the PnL as a fraction of entry notional, times notional over
their account's net value), highest first; each closes at most its whole position.

Every close is a trade at the bankruptcy price (contract 5.3): funding settles, PnL
realises into the settlement asset; both sides only reduce, so no margin check applies.

Rounding (docs/rounding.md): the bankruptcy price rounds so that the bankrupt account
ends at or above zero (up for a long, down for a short): the deleveraged counterparties
bear the rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xmargin.errors import NoPosition, NothingToLiquidate
from xmargin.liquidation_errors import InsuranceFundCovers, NoCounterparty, NotBankrupt
from xmargin.mathlib import CTX, ZERO, div_down, div_up, exact
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.auction_curves import PRICE_DECIMALS
from xmargin.risk.health import account_health, weighted_sums
from xmargin.risk.insurance import write_off_bad_debt
from xmargin.risk.perps import pnl
from xmargin.risk.trading import quote_trade

__all__ = [
    "Counterparty",
    "DeleverageQuote",
    "adl_ranking",
    "adl_score",
    "bankruptcy_price",
    "net_value",
    "quote_deleverage",
]


@dataclass(frozen=True)
class Counterparty:
    """One deleveraged position: ``closed`` base units at the bankruptcy price;
    ``realized_pnl`` in quote; ``borne_value`` = closed·|X_b − P|, the share of the
    shortfall it bore (quote)."""

    account: str
    score: Decimal
    closed: Decimal
    realized_pnl: Decimal
    borne_value: Decimal


@dataclass(frozen=True)
class DeleverageQuote:
    """What deleveraging does (contract 8.4). Values in quote; ``closed`` in base units."""

    account: str
    perp: str
    net_value: Decimal
    price: Decimal
    bankruptcy_price: Decimal
    closed: Decimal
    counterparties: list[Counterparty]
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    bad_debt: dict[str, Decimal]
    insurance_fund_used: dict[str, Decimal]
    accounts_after: list[Account] = field(repr=False, compare=False)


def net_value(account: Account, market: Market) -> Decimal:
    """collateral_value − debt_value (contract 2 and 5.2), in quote."""
    sums = weighted_sums(account, market)
    return sums.collateral_value - sums.debt_value


def bankruptcy_price(price: Decimal, value: Decimal, q: Decimal) -> Decimal:
    """X_b = P − V/q: closing q at X_b moves the account's net value V by q·(X_b − P) to 0.

    Rounded to 1e-18 so the account ends at or above zero: up for a long, down for a short.

    >>> bankruptcy_price(Decimal(100), Decimal(-50), Decimal(10))
    Decimal('105.000000000000000000')
    """
    x = CTX.subtract(price, CTX.divide(value, q))
    if q > ZERO:
        return div_up(x, Decimal(1), PRICE_DECIMALS)
    return div_down(x, Decimal(1), PRICE_DECIMALS)


def adl_score(
    position_pnl: Decimal, q: Decimal, entry: Decimal, price: Decimal, value: Decimal
) -> Decimal:
    """PnL × leverage: (pnl / (|q|·E)) × (|q|·P / V) = pnl·P / (E·V), held to 1e-18
    (down; a ranking, not money: ties are broken by account id).

    >>> adl_score(Decimal(100), Decimal(2), Decimal(1000), Decimal(1050), Decimal(500))
    Decimal('0.210000000000000000')
    """
    return div_down(CTX.multiply(position_pnl, price), CTX.multiply(entry, value), PRICE_DECIMALS)


def adl_ranking(market: Market, perp_name: str, side: int, skip: str) -> list[tuple[str, Decimal]]:
    """Accounts holding a profitable position in ``perp_name`` on ``side`` (+1 long, −1
    short), with a positive net value, by score, highest first (ties: account id)."""
    perp = market.perp(perp_name)
    p = market.perp_price(perp)
    ranked: list[tuple[str, Decimal]] = []
    for acc in market.accounts.values():
        pos = acc.position(perp_name)
        if acc.id == skip or pos is None or (pos.size > ZERO) != (side > 0):
            continue
        gain = pnl(pos.size, p, pos.entry_price, perp.funding_index, pos.funding_index)
        value = net_value(acc, market)
        if gain > ZERO and value > ZERO:
            ranked.append((acc.id, adl_score(gain, pos.size, pos.entry_price, p, value)))
    ranked.sort(key=lambda r: (-r[1], r[0]))
    return ranked


@exact
def quote_deleverage(market: Market, account_id: str, perp_name: str) -> DeleverageQuote:
    """Exactly what auto-deleveraging ``account_id``'s position in ``perp_name`` does
    (contract 8.4), without changing ``market``.

    Raises
    ------
    UnknownAccount, UnknownPerp
        Bad input.
    NoPosition, NotBankrupt, InsuranceFundCovers, NoCounterparty, NothingToLiquidate
        Refused by a rule.
    """
    perp = market.perp(perp_name)
    account = market.account(account_id)
    pos = account.position(perp_name)
    if pos is None:
        raise NoPosition(account_id, perp_name)
    value = net_value(account, market)
    if value >= ZERO:
        raise NotBankrupt(account_id, value)
    settle = market.assets[perp.settlement_asset]
    fund_value = market.insurance_fund.get(perp.settlement_asset, ZERO) * settle.price
    if fund_value >= -value:
        raise InsuranceFundCovers(account_id, -value, fund_value)
    p = market.perp_price(perp)
    x = bankruptcy_price(p, value, pos.size)
    if x <= ZERO:
        raise NothingToLiquidate(account_id, f"its bankruptcy price in {perp_name} is {x}, not > 0")
    side = 1 if pos.size < ZERO else -1  # the opposite side
    remaining = abs(pos.size)
    parties: list[Counterparty] = []
    after: list[Account] = []
    for other, score in adl_ranking(market, perp_name, side, account_id):
        if not remaining:
            break
        size = market.accounts[other].perps[perp_name].size
        closed = min(remaining, abs(size))
        trade = quote_trade(market, other, perp_name, closed if size < ZERO else -closed, x)
        borne = CTX.multiply(closed, abs(CTX.subtract(x, p)))
        parties.append(Counterparty(other, score, closed, trade.realized_pnl, borne))
        after.append(trade.account_after)
        remaining -= closed
    if not parties:
        raise NoCounterparty(account_id, perp_name)
    closed = abs(pos.size) - remaining
    own = quote_trade(market, account_id, perp_name, -closed if pos.size > ZERO else closed, x)
    mine = own.account_after
    used, bad = write_off_bad_debt(mine, market)
    return DeleverageQuote(
        account=account_id,
        perp=perp_name,
        net_value=value,
        price=p,
        bankruptcy_price=x,
        closed=closed,
        counterparties=parties,
        health_factor_before=account_health(account, market).health_factor,
        health_factor_after=account_health(mine, market).health_factor,
        bad_debt=bad,
        insurance_fund_used=used,
        accounts_after=[mine, *after],
    )
