"""Bad debt and the insurance fund (contract 3.7 and 5.5).

When a liquidation leaves an account with no collateral and no open position but still
owing, every remaining borrow is written off; the market's insurance fund for each asset
covers the write-off first, and only the rest is bad debt added to the deficit. Amounts
are whole units already on the account's books: nothing here rounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

from xmargin.mathlib import ZERO
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.weights import effective_weights

__all__ = [
    "WriteOff",
    "bad_debt_after",
    "has_collateral",
    "insurance_fund_used",
    "write_off_bad_debt",
]


def has_collateral(account: Account, market: Market) -> bool:
    """Whether ``account`` supplies any asset with an effective lt > 0 (contract 3.7)."""
    category = market.category_of(account)
    for a, s in account.supply.items():
        w = effective_weights(market.assets[a], category, s, ZERO)
        if w.liquidation_threshold > ZERO:
            return True
    return False


def bad_debt_after(account: Account, market: Market) -> dict[str, Decimal]:
    """Borrows to write off: all of them when the account holds no collateral, no open
    perp or option position (contract 3.7, 5.4 step 4) and no running auction (8.2);
    else none."""
    if (
        account.borrow
        and not account.perps
        and not account.options
        and not has_collateral(account, market)
        and not any(a.account == account.id for a in market.auctions.values())
    ):
        return dict(account.borrow)
    return {}


def insurance_fund_used(
    written_off: Mapping[str, Decimal], fund: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Per asset, min(written off, fund): what the insurance fund covers (contract 5.5).

    >>> insurance_fund_used({"USDC": Decimal(30), "DAI": Decimal(5)}, {"USDC": Decimal(20)})
    {'USDC': Decimal('20')}
    """
    used: dict[str, Decimal] = {}
    for a, units in written_off.items():
        covered = min(units, fund.get(a, ZERO))
        if covered > ZERO:
            used[a] = covered
    return used


class WriteOff(NamedTuple):
    """A write-off split between the insurance fund and the deficit, in units per asset."""

    insurance_fund_used: dict[str, Decimal]
    bad_debt: dict[str, Decimal]


def write_off_bad_debt(
    account: Account, market: Market, fund: Mapping[str, Decimal] | None = None
) -> WriteOff:
    """Contract 3.7 with 5.5 on ``account`` (a copy being liquidated): zero every borrow
    to write off; return what the fund covers and the uncovered rest (the bad debt).

    ``fund`` is the insurance fund to draw on (default: the market's), for a liquidation
    that has just added its insurance fee to it (5.4 step 3).
    """
    written = bad_debt_after(account, market)
    if not written:
        return WriteOff({}, {})
    for a in written:
        account.set_borrow(a, ZERO)
    used = insurance_fund_used(written, market.insurance_fund if fund is None else fund)
    bad = {a: u - used.get(a, ZERO) for a, u in written.items()}
    return WriteOff(used, {a: u for a, u in bad.items() if u})
