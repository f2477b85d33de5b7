"""Liquidation of a perp position (contract 5.4), one function per step, and a pure quote.

The closed part is taken over by the liquidator at the oracle price P: funding is
settled, PnL realised, and the account pays a liquidator fee and an insurance fee, both
fractions of the closed notional, from its settlement asset. Then bad debt (3.7), the
insurance fund first (5.5).

Rounding (docs/rounding.md): the close-factor limit rounds down (it binds the
liquidator); fees are exact in quote and, as every debit, round up in units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from xmargin.errors import NothingToLiquidate, NotLiquidatable
from xmargin.mathlib import CTX, HF_DECIMALS, ZERO, div_up, exact, quantize_down
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.params import MarketParams
from xmargin.model.perps import PerpParams, PerpPosition
from xmargin.risk.health import account_health
from xmargin.risk.insurance import write_off_bad_debt
from xmargin.risk.perps import notional
from xmargin.risk.settlement import apply_flow, funding_payment, realized_pnl
from xmargin.risk.trading import parse_size

__all__ = ["PerpLiquidationQuote", "liquidation_fees", "max_closable", "quote_perp_liquidation"]


@dataclass(frozen=True)
class PerpLiquidationQuote:
    """What a perp liquidation does (contract 5.7 ``liquidate --perp`` JSON, plus the
    state after). Values in quote, except ``bad_debt`` and ``insurance_fund_used`` (units
    per asset) and ``closed`` (base units)."""

    account: str
    perp: str
    closed: Decimal
    price: Decimal
    realized_pnl: Decimal
    liquidator_fee: Decimal
    insurance_fee: Decimal
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    bad_debt: dict[str, Decimal]
    insurance_fund_used: dict[str, Decimal]
    #: funding settled first, in quote (> 0 when the account paid)
    funding_paid: Decimal
    #: units of the settlement asset the insurance fee added to the fund
    insurance_fund_intake: Decimal
    account_after: Account = field(repr=False, compare=False)


def max_closable(
    params: MarketParams, hf: Decimal, q: Decimal, price: Decimal, decimals: int
) -> Decimal:
    """The most base units of the position that may be closed now (contract 5.4 step 2).

    Notes
    -----
    All of |q| if hf <= full_liquidation_health or notional < small_position_value;
    otherwise close_factor·|q|, rounded down to the underlying's decimals (the limit
    binds the liquidator).
    """
    size = abs(q)
    if hf <= params.full_liquidation_health or notional(q, price) < params.small_position_value:
        return size
    return quantize_down(CTX.multiply(params.close_factor, size), decimals)


def liquidation_fees(perp: PerpParams, closed: Decimal, price: Decimal) -> tuple[Decimal, Decimal]:
    """(liquidator_fee, insurance_fee) in quote: closed·P·liquidation_fee and
    closed·P·insurance_fee (contract 5.4 step 3), exact.

    >>> p = PerpParams(name="X", underlying="A", settlement_asset="B", initial_margin=0.1,
    ...                maintenance_margin=0.1, liquidation_fee=0.01, insurance_fee=0.01)
    >>> liquidation_fees(p, Decimal("1.25"), Decimal(100))
    (Decimal('1.2500'), Decimal('1.2500'))
    """
    value = CTX.multiply(closed, price)  # base units x quote/unit = quote
    return CTX.multiply(value, perp.liquidation_fee), CTX.multiply(value, perp.insurance_fee)


@exact
def quote_perp_liquidation(
    market: Market,
    account_id: str,
    perp_name: str,
    size: Decimal | Literal["max"] | str,
) -> PerpLiquidationQuote:
    """Exactly what ``liquidate(account, perp, size)`` would do (contract 5.4), without
    changing ``market``.

    Raises
    ------
    UnknownAccount, UnknownPerp, InvalidAmount
        Bad input.
    NotLiquidatable, NothingToLiquidate
        Refused by a rule.
    """
    perp = market.perp(perp_name)
    account = market.account(account_id)
    decimals = market.assets[perp.underlying].decimals
    want = None if size == "max" else parse_size(size, decimals, "size", signed=False)

    # 1. liquidatable, and holds a position in the perp.
    before = account_health(account, market)
    if not before.liquidatable:
        raise NotLiquidatable(account_id, before.health_factor)
    pos = account.position(perp_name)
    if pos is None:
        raise NothingToLiquidate(account_id, f"holds no position in {perp_name}")
    # As in contract 3, the rules read the health factor rounded UP: a tie at the
    # full-liquidation level resolves against the liquidator, who acts.
    hf_rules = div_up(before.maintenance_collateral, before.maintenance_debt, HF_DECIMALS)

    # 2. how much may be closed.
    p = market.perp_price(perp)
    q = pos.size
    limit = max_closable(market.params, hf_rules, q, p, decimals)
    closed = limit if want is None else min(want, limit)
    if not closed:
        raise NothingToLiquidate(
            account_id, "the size rounds to nothing at the underlying's decimals"
        )

    # 3. taken over at P: funding, realised PnL, then the two fees, one flow each.
    settle = perp.settlement_asset
    after = account.copy()
    funding = funding_payment(pos, perp)
    apply_flow(after, market, settle, -funding)
    realized = realized_pnl(closed, p, pos.entry_price, q)
    apply_flow(after, market, settle, realized)
    rest = q - closed if q > ZERO else q + closed
    after.set_perp(perp_name, PerpPosition(rest, pos.entry_price, perp.funding_index))
    liquidator_fee, insurance_fee = liquidation_fees(perp, closed, p)
    apply_flow(after, market, settle, -liquidator_fee)
    intake = -apply_flow(after, market, settle, -insurance_fee)  # units paid into the fund
    fund = dict(market.insurance_fund)
    if intake:
        fund[settle] = fund.get(settle, ZERO) + intake

    # 4. bad debt (3.7) with the insurance fund first (5.5); no dust rule.
    used, bad = write_off_bad_debt(after, market, fund)
    return PerpLiquidationQuote(
        account=account_id,
        perp=perp_name,
        closed=closed,
        price=p,
        realized_pnl=realized,
        liquidator_fee=liquidator_fee,
        insurance_fee=insurance_fee,
        health_factor_before=before.health_factor,
        health_factor_after=account_health(after, market).health_factor,
        bad_debt=bad,
        insurance_fund_used=used,
        funding_paid=funding,
        insurance_fund_intake=intake,
        account_after=after,
    )
