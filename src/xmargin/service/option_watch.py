"""The exact engine's watch over accounts that hold option positions, beside the risk book.

The risk book (:mod:`xmargin.book`) holds balances and perp positions; option positions
are not among its screening columns yet (:mod:`xmargin.book.option_columns` prices them but
does not decide statuses). Rather than let the book decide the status of an account whose
options change its health, the service decides these accounts on the exact Decimal engine
(:func:`~xmargin.risk.health.account_health`, contract 6) and lets that decision override
the book's everywhere the risk view answers: the account's level, the counts by level, the
liquidation queue, the summary's liquidatable and insolvent debt, and the crossings the
stream reports. Option accounts are few in a lending market, so re-deciding all of them
after every price or funding change costs little.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from xmargin.book import Status
from xmargin.mathlib import ZERO
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod
from xmargin.risk.health import AccountHealth, account_health

__all__ = ["OptionWatch", "holds_options", "status_of"]


def status_of(h: AccountHealth, at_risk_below: Decimal) -> Status:
    """The book's status of an account from its exact figures (the book's own rule)."""
    if h.liquidatable:
        return Status.LIQUIDATABLE
    if h.health_factor is not None and h.health_factor < at_risk_below:
        return Status.AT_RISK
    return Status.HEALTHY


def holds_options(account: Account) -> bool:
    """Whether the exact engine decides ``account``: it holds an option position (not among
    the book's screening columns) or is portfolio-margined (scenario margin, contract 6.3)."""
    return bool(account.options) or account.margin is MarginMethod.PORTFOLIO


def without_options(account: Account) -> Account:
    """The account as the book sees it: its balances and perp positions, no options."""
    return Account(account.id, account.supply, account.borrow, account.category, account.perps)


class OptionWatch:
    """Exact health and status of every account that holds an option position."""

    def __init__(self, at_risk_below: Decimal) -> None:
        self.at_risk_below = at_risk_below
        self.health: dict[str, AccountHealth] = {}
        self.status: dict[str, Status] = {}

    def __contains__(self, account: object) -> bool:
        return account in self.status

    def rebuild(self, market: Market) -> None:
        """Decide every account of ``market`` that holds an option position."""
        self.health.clear()
        self.status.clear()
        self.refresh(market, (a for a, acc in market.accounts.items() if holds_options(acc)))

    def refresh(self, market: Market, accounts: Iterable[str]) -> None:
        """Decide ``accounts`` again; one that holds no option any more leaves the watch."""
        for acc_id in accounts:
            acc = market.accounts.get(acc_id)
            if acc is None or not holds_options(acc):
                self.health.pop(acc_id, None)
                self.status.pop(acc_id, None)
                continue
            h = account_health(acc, market)
            self.health[acc_id] = h
            self.status[acc_id] = status_of(h, self.at_risk_below)

    def liquidatable(self) -> list[tuple[str, Decimal]]:
        """Watched accounts below maintenance, with their shortfall (md − mc, quote)."""
        return [
            (a, h.maintenance_debt - h.maintenance_collateral)
            for a, h in self.health.items()
            if self.status[a] == Status.LIQUIDATABLE
        ]

    def debts(self, market: Market) -> tuple[float, float, float, float]:
        """(liquidatable debt, insolvent debt) of the watched accounts as the exact engine
        decides them, then as the book counts them (no options), in quote: the summary
        takes the second pair out of the book's sums and puts the first in."""
        liq = ins = book_liq = book_ins = ZERO
        for a, h in self.health.items():
            if self.status[a] == Status.LIQUIDATABLE:
                liq += h.debt_value
            ins += max(h.debt_value - h.collateral_value, ZERO)
            b = account_health(without_options(market.accounts[a]), market)
            if b.liquidatable:
                book_liq += b.debt_value
            book_ins += max(b.debt_value - b.collateral_value, ZERO)
        return float(liq), float(ins), float(book_liq), float(book_ins)
