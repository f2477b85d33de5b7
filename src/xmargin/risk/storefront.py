"""Compound v3's storefront (contract 8.3): ``absorb`` and ``buy_collateral``, as quotes.

``absorb`` moves every balance of an account below maintenance to the protocol: its
collateral to the protocol's holdings, its debt onto the protocol's reserves; the account
is credited, in the base asset, whatever its collateral is worth at each asset's
``liquidation_factor`` beyond its debt (Comet ``absorbInternal``). The protocol then sells
the collateral at a discount, ``store_front_price_factor`` of the liquidation penalty,
while its reserves of the base asset are below ``target_reserves`` (Comet
``buyCollateral``, ``quoteCollateral``).

Rounding (docs/rounding.md): a liquidation factor derived from the bonus, the credit to an
absorbed account and the collateral a buyer receives round down; what a buyer pays for all
of a holding rounds up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from xmargin.errors import InputError, InvalidAmount, NothingToLiquidate, NotLiquidatable
from xmargin.liquidation_errors import InsufficientReserves, LiquidationDesignMismatch, NotForSale
from xmargin.mathlib import CTX, ONE, WEIGHT_DECIMALS, ZERO, div_down, exact, quantize_up
from xmargin.model.account import Account
from xmargin.model.liquidation_params import LiquidationDesign, StorefrontParams
from xmargin.model.market import Market
from xmargin.risk.health import account_health
from xmargin.risk.validation import parse_amount

__all__ = [
    "AbsorbQuote",
    "BuyCollateralQuote",
    "liquidation_factor",
    "quote_absorb",
    "quote_buy_collateral",
    "quote_collateral",
    "store_front_price",
]


@dataclass(frozen=True)
class AbsorbQuote:
    """What ``absorb`` does. Units per asset in ``seized`` and ``absorbed_debt``; values in
    quote at the oracle; ``excess`` in units of the base asset credited to the account.
    ``protocol_value`` = collateral_value − debt_value − excess value: what the protocol
    gains (negative: loses) at oracle prices."""

    account: str
    base: str
    seized: dict[str, Decimal]
    absorbed_debt: dict[str, Decimal]
    collateral_value: Decimal
    credited_value: Decimal
    debt_value: Decimal
    excess: Decimal
    protocol_value: Decimal
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    account_after: Account = field(repr=False, compare=False)


@dataclass(frozen=True)
class BuyCollateralQuote:
    """What ``buy_collateral`` does: ``paid`` base units for ``bought`` units of ``asset``
    at the store-front ``price`` (quote per unit); ``buyer_value`` = bought·p − paid·p_base,
    the buyer's discount at oracle prices."""

    asset: str
    base: str
    paid: Decimal
    bought: Decimal
    price: Decimal
    reserves_before: Decimal
    buyer_value: Decimal


def _storefront(market: Market, command: str) -> StorefrontParams:
    sf = market.params.storefront
    if market.params.liquidation != LiquidationDesign.STOREFRONT or sf is None:
        raise LiquidationDesignMismatch(command, "'storefront'", market.params.liquidation)
    return sf


def liquidation_factor(market: Market, sf: StorefrontParams, asset: str) -> Decimal:
    """An asset's liquidation factor: its entry in ``storefront.liquidation_factor``, 1 for
    the base asset, else 1/(1 + liquidation_bonus), rounded down to 1e-18 (the absorbed
    account is credited no more than the rule says).
    """
    if asset in sf.liquidation_factor:
        return sf.liquidation_factor[asset]
    if asset == sf.base:
        return ONE
    return div_down(ONE, ONE + market.assets[asset].liquidation_bonus, WEIGHT_DECIMALS)


def store_front_price(price: Decimal, spf: Decimal, lf: Decimal) -> Decimal:
    """Comet's discounted price: price·(1 − store_front_price_factor·(1 − lf)), exact.

    >>> store_front_price(Decimal(2000), Decimal("0.5"), Decimal("0.93"))
    Decimal('1930.000')
    """
    return CTX.multiply(price, CTX.subtract(ONE, CTX.multiply(spf, CTX.subtract(ONE, lf))))


def quote_collateral(
    base_amount: Decimal, p_base: Decimal, discounted: Decimal, decimals: int
) -> Decimal:
    """Comet ``quoteCollateral``: units of collateral ``base_amount`` of the base buys,
    base_amount·p_base/discounted, rounded down (the buyer, who acts, gets no more)."""
    return div_down(CTX.multiply(base_amount, p_base), discounted, decimals)


@exact
def quote_absorb(market: Market, account_id: str) -> AbsorbQuote:
    """Exactly what ``absorb`` does to ``account_id`` (contract 8.3), without changing
    ``market``.

    Notes
    -----
    credited = Σ s·p·lf over every supplied asset; debt = Σ b·p; the account keeps
    max(0, credited − debt) as supply of the base asset (units = value / p_base, down).

    Raises
    ------
    UnknownAccount, LiquidationDesignMismatch
        Bad input.
    NotLiquidatable, NothingToLiquidate
        Refused by a rule (an account with perp or option positions: liquidate them
        first).
    """
    sf = _storefront(market, "absorb")
    account = market.account(account_id)
    before = account_health(account, market)
    if not before.liquidatable:
        raise NotLiquidatable(account_id, before.health_factor)
    if account.perps or account.options:
        names = ", ".join(sorted([*account.perps, *account.options]))
        raise NothingToLiquidate(
            account_id,
            f"absorb takes balances only; liquidate its perp and option positions first ({names})",
        )
    collateral_value = credited = debt_value = ZERO
    for a, s in account.supply.items():
        v = CTX.multiply(s, market.assets[a].price)  # units x quote/unit = quote
        collateral_value += v
        credited += CTX.multiply(v, liquidation_factor(market, sf, a))
    for a, b in account.borrow.items():
        debt_value += CTX.multiply(b, market.assets[a].price)
    p_base = market.assets[sf.base].price
    excess = ZERO
    if credited > debt_value:
        # quote / (quote/unit) = units; rounds down: the account is credited no more.
        excess = div_down(credited - debt_value, p_base, market.assets[sf.base].decimals)
    after = Account(account.id, {sf.base: excess}, {}, account.category)
    return AbsorbQuote(
        account=account_id,
        base=sf.base,
        seized=dict(account.supply),
        absorbed_debt=dict(account.borrow),
        collateral_value=collateral_value,
        credited_value=credited,
        debt_value=debt_value,
        excess=excess,
        protocol_value=collateral_value - debt_value - excess * p_base,
        health_factor_before=before.health_factor,
        health_factor_after=None,
        account_after=after,
    )


@exact
def quote_buy_collateral(
    market: Market, asset: str, base_amount: Decimal | Literal["max"] | str
) -> BuyCollateralQuote:
    """Exactly what buying ``asset`` from the protocol for ``base_amount`` units of the
    base asset does (contract 8.3); ``"max"`` buys all the protocol holds.

    Raises
    ------
    UnknownAsset, InvalidAmount, LiquidationDesignMismatch, InputError
        Bad input (the base asset itself is not for sale).
    NotForSale, InsufficientReserves
        Refused by a rule: reserves at or above target, or less collateral held than the
        amount buys.
    """
    sf = _storefront(market, "buy-collateral")
    ap, base_p = market.asset(asset), market.asset(sf.base)
    if asset == sf.base:
        raise InputError(f"buy-collateral: {asset} is the base asset, not collateral for sale")
    reserves = market.reserves.get(sf.base, ZERO)
    if reserves >= sf.target_reserves:
        raise NotForSale(sf.base, reserves, sf.target_reserves)
    lf = liquidation_factor(market, sf, asset)
    price = store_front_price(ap.price, sf.store_front_price_factor, lf)
    held = market.protocol_collateral.get(asset, ZERO)
    if base_amount == "max":
        if not held:
            raise InsufficientReserves(asset, None, held)
        bought = held
        # units x quote/unit / (quote/unit) = base units; rounds up: the buyer pays no less.
        paid = quantize_up(CTX.divide(CTX.multiply(held, price), base_p.price), base_p.decimals)
    else:
        paid = parse_amount(base_amount, base_p.decimals, "amount")
        bought = quote_collateral(paid, base_p.price, price, ap.decimals)
        if not bought:
            raise InvalidAmount("amount", paid, f"buys nothing at {asset}'s {ap.decimals} decimals")
        if bought > held:
            raise InsufficientReserves(asset, bought, held)
    return BuyCollateralQuote(
        asset=asset,
        base=sf.base,
        paid=paid,
        bought=bought,
        price=price,
        reserves_before=reserves,
        buyer_value=bought * ap.price - paid * base_p.price,
    )
