"""Pure checks of the ledger actions (contract 1.3, 2 and the caps of section 1).

Each ``validate_<action>`` raises the first rule the action breaks and changes nothing;
``check_initial_margin`` is the post-check run on the account as it would be after a
borrow or a withdrawal.
"""

from __future__ import annotations

from decimal import Decimal

from xmargin.errors import (
    CapExceeded,
    CategoryViolation,
    InsufficientBalance,
    InsufficientMargin,
    InvalidAmount,
    InvalidPrice,
    IsolationViolation,
    NotBorrowable,
)
from xmargin.mathlib import ZERO, exact, fmt, quantize_down
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.numbers import MAX_MAGNITUDE, NumberError, parse_number
from xmargin.risk.health import weighted_sums

__all__ = [
    "check_initial_margin",
    "parse_amount",
    "parse_price",
    "validate_borrow",
    "validate_deposit",
    "validate_repay",
    "validate_withdraw",
]


@exact
def parse_amount(
    value: object, decimals: int, field: str = "amount", *, zero_ok: bool = False
) -> Decimal:
    """A positive token amount held to the asset's ``decimals``; else :class:`InvalidAmount`.

    ``zero_ok``: a balance (>= 0) rather than an amount to move (> 0).
    """
    try:
        amount = parse_number(value)
    except NumberError as exc:
        raise InvalidAmount(field, value, exc.reason) from None
    if zero_ok and amount < ZERO:
        raise InvalidAmount(field, value, "must be >= 0")
    if not zero_ok and amount <= ZERO:
        raise InvalidAmount(field, value, "must be > 0")
    if quantize_down(amount, decimals) != amount:
        raise InvalidAmount(field, value, f"has more than {decimals} decimal places")
    return amount


@exact
def parse_price(asset: str, raw: object) -> Decimal:
    """An exact price > 0, quote per unit (a finite number of magnitude <= 1e24, in the
    contract's syntax); else :class:`~xmargin.errors.InvalidPrice` with the reason. Every
    caller that reads a price reads it here: the oracle's (``POST /v1/prices``, the risk
    book), a trade's execution price, an auction bid's limit."""
    try:
        p = parse_number(raw)
    except NumberError as exc:
        raise InvalidPrice(asset, raw, exc.reason) from None
    if p <= ZERO:
        raise InvalidPrice(asset, raw, "must be > 0")
    return p


def _isolation_conflict(market: Market, account: Account, asset: str) -> str | None:
    """Why supplying ``asset`` would break isolation for ``account``, or ``None``."""
    ap = market.assets[asset]
    if ap.debt_ceiling is not None:
        others = [
            a
            for a in account.supply
            if a != asset and market.assets[a].liquidation_threshold > ZERO
        ]
        if others:
            return f"cannot supply isolated {asset} beside other collateral ({', '.join(others)})"
    elif ap.liquidation_threshold > ZERO:
        iso = market.isolated_collateral_of(account)
        if iso is not None and iso != asset:
            return f"supplies isolated {iso}, so cannot add collateral {asset}"
    return None


def _check_balance_bound(account: Account, asset: str, side: str, after: Decimal) -> None:
    """A balance stays within the contract's 1e24 units, so every stored balance can be
    read back as a market file's number is."""
    if after > MAX_MAGNITUDE:
        raise InvalidAmount(
            "amount", fmt(after), f"would take {account.id}'s {side} of {asset} above 1e24 units"
        )


@exact
def validate_deposit(market: Market, account: Account, asset: str, amount: Decimal) -> None:
    """Supply cap and isolation; a deposit is never refused for margin."""
    ap = market.asset(asset)
    _check_balance_bound(account, asset, "supply", account.supplied(asset) + amount)
    if ap.supply_cap is not None:
        total = market.total_supply.get(asset, ZERO) + amount
        if total > ap.supply_cap:
            raise CapExceeded("supply_cap", asset, total, ap.supply_cap)
    why = _isolation_conflict(market, account, asset)
    if why is not None:
        raise IsolationViolation(account.id, why)


@exact
def validate_withdraw(market: Market, account: Account, asset: str, amount: Decimal) -> None:
    """The account must hold ``amount``; margin is post-checked by the ledger."""
    market.asset(asset)
    held = account.supplied(asset)
    if amount > held:
        raise InsufficientBalance(account.id, asset, "supply", held, amount)


@exact
def validate_borrow(market: Market, account: Account, asset: str, amount: Decimal) -> None:
    """Borrowability, borrow cap, category and isolation (with the debt ceiling)."""
    ap = market.asset(asset)
    if not ap.borrowable:
        raise NotBorrowable(asset)
    _check_balance_bound(account, asset, "borrow", account.borrowed(asset) + amount)
    if ap.borrow_cap is not None:
        total = market.total_borrow.get(asset, ZERO) + amount
        if total > ap.borrow_cap:
            raise CapExceeded("borrow_cap", asset, total, ap.borrow_cap)
    category = market.category_of(account)
    if category is not None and not category.allows_borrow(asset):
        raise CategoryViolation(account.id, category.name, asset)
    iso = market.isolated_collateral_of(account)
    if iso is not None:
        if not ap.borrowable_in_isolation:
            raise IsolationViolation(
                account.id, f"supplies isolated {iso}; {asset} is not borrowable in isolation"
            )
        ceiling = market.assets[iso].debt_ceiling
        assert ceiling is not None
        total = market.isolation_debt.get(iso, ZERO) + amount * ap.price
        if total > ceiling:
            raise CapExceeded("debt_ceiling", iso, total, ceiling)


@exact
def validate_repay(market: Market, account: Account, asset: str, amount: Decimal) -> None:
    """The account must owe at least ``amount``; repaying is never refused for margin."""
    market.asset(asset)
    owed = account.borrowed(asset)
    if amount > owed:
        raise InsufficientBalance(account.id, asset, "borrow", owed, amount)


def check_initial_margin(market: Market, after: Account, action: str) -> None:
    """Post-check of contract 2: afterwards initial_collateral >= initial_debt."""
    sums = weighted_sums(after, market)
    if sums.initial_collateral < sums.initial_debt:
        raise InsufficientMargin(after.id, action, sums.initial_collateral, sums.initial_debt)
