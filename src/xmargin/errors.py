"""The one exception tree of xmargin.

Every error carries a machine-readable ``code`` (the contract's word for it) and a human
message that names what is wrong and where. Front ends map the class to an exit status
(CLI) or an HTTP status (service) in one place each::

    XmarginError
      InputError (also ValueError; CLI exit 2)
        MarketFileError(.problems)      invalid_market_file
        ScenarioFileError(.problems)    invalid_scenario_file
        UnknownAsset                    unknown_asset
        UnknownAccount                  unknown_account
        UnknownCategory                 unknown_category
        UnknownPerp                     unknown_perp
        InvalidAmount                   invalid_amount
        InvalidPrice                    invalid_price
        StalePrice                      stale_price
        PriceDeviation                  price_deviation
        PriceOutOfOrder                 price_out_of_order
      RuleViolation (CLI exit 1)
        NotLiquidatable                 not_liquidatable
        NothingToLiquidate              nothing_to_liquidate
        WouldLeaveDust                  would_leave_dust
        InsufficientMargin              insufficient_margin
        InsufficientBalance             insufficient_balance
        CapExceeded                     supply_cap_exceeded | borrow_cap_exceeded
                                        | debt_ceiling_exceeded
        IsolationViolation              isolation_violation
        CategoryViolation               category_violation
        NotBorrowable                   not_borrowable
        OpenInterestCapExceeded         open_interest_cap_exceeded
        NoPosition                      no_position
      PermissionDenied                  permission_denied
        NotAuthenticated                not_authenticated
          TooManyFailedAuthentications  too_many_failed_authentications
      RequestError (service requests)
        MalformedRequest                malformed_request
        InvalidRequest(.problems)       invalid_request
        IdempotencyConflict             idempotency_key_reused
        BodyTooLarge                    body_too_large
        RequestTimeout                  request_timeout
      StoreError                        store_error
        JournalMismatch                 journal_mismatch
      StartupError                      cannot_start

The errors of the liquidation designs (contract 8) live in :mod:`xmargin.liquidation_errors`,
those of the service, its store and requests in :mod:`xmargin.service_errors`; both are
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from xmargin.mathlib import shown

__all__ = [
    "CapExceeded",
    "CategoryViolation",
    "InputError",
    "InsufficientBalance",
    "InsufficientMargin",
    "InvalidAmount",
    "InvalidPrice",
    "IsolationViolation",
    "ListsProblems",
    "MarketFileError",
    "NoPosition",
    "NotBorrowable",
    "NotLiquidatable",
    "NothingToLiquidate",
    "OpenInterestCapExceeded",
    "PriceDeviation",
    "PriceOutOfOrder",
    "Problem",
    "RuleViolation",
    "ScenarioFileError",
    "StalePrice",
    "UnknownAccount",
    "UnknownAsset",
    "UnknownCategory",
    "UnknownPerp",
    "WouldLeaveDust",
    "XmarginError",
]


class XmarginError(Exception):
    """Base of every error the engine raises on purpose."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, object]:
        """The contract's JSON error object body (``{"code", "message", "problems"}``)."""
        return {"code": self.code, "message": self.message, "problems": self.problem_lines()}

    def problem_lines(self) -> list[str]:
        """The ``problems`` of the JSON error object: every located problem, one a line."""
        return []


class InputError(XmarginError, ValueError):
    """Bad input: a malformed file, an unknown name, an amount that is not a number."""

    code = "invalid_input"
    exit_code = 2


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a market file: ``location: message``."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


def _listed(items: list[str]) -> str:
    """The first three of ``items``, and how many more."""
    more = f"; and {len(items) - 3} more" if len(items) > 3 else ""
    return "; ".join(items[:3]) + more


class ListsProblems(XmarginError):
    """An error that found every problem of what it checked (``.problems``), each
    located, and lists them all: in its message the first three, in the JSON error
    object every one."""

    def __init__(self, head: str, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{head}: {_listed([str(p) for p in problems])}")

    def problem_lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class MarketFileError(ListsProblems, InputError):
    """A market file broke one or more rules of contract section 1.1; all are listed."""

    code = "invalid_market_file"

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        n = len(problems)
        super().__init__(f"{source}: {n} problem{'s' if n != 1 else ''}", problems)


class ScenarioFileError(MarketFileError):
    """A scenario file (hypothetical modeling) broke one or more rules; all are listed."""

    code = "invalid_scenario_file"


class UnknownAsset(InputError):
    code = "unknown_asset"

    def __init__(self, asset: str, where: str = "") -> None:
        self.asset = asset
        loc = f"{where}: " if where else ""
        super().__init__(f"{loc}unknown asset {asset!r}")


class UnknownAccount(InputError):
    code = "unknown_account"

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(f"unknown account {account!r}")


class UnknownCategory(InputError):
    code = "unknown_category"

    def __init__(self, category: str) -> None:
        self.category = category
        super().__init__(f"unknown category {category!r}")


class UnknownPerp(InputError):
    code = "unknown_perp"

    def __init__(self, perp: str) -> None:
        self.perp = perp
        super().__init__(f"unknown perp {perp!r}")


class InvalidAmount(InputError):
    code = "invalid_amount"

    def __init__(self, field: str, value: object, why: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: {why}, was {shown(value)}")


class InvalidPrice(InputError):
    code = "invalid_price"

    def __init__(self, asset: str, value: object, why: str) -> None:
        self.asset = asset
        self.value = value
        super().__init__(f"price of {asset}: {why}, was {shown(value)}")


class StalePrice(InputError):
    code = "stale_price"

    def __init__(self, asset: str, age_seconds: Decimal, max_age_seconds: Decimal) -> None:
        self.asset = asset
        self.age_seconds = age_seconds
        self.max_age_seconds = max_age_seconds
        super().__init__(
            f"price of {asset}: stale, {shown(age_seconds)}s old, max age {shown(max_age_seconds)}s"
        )


class PriceDeviation(InputError):
    code = "price_deviation"

    def __init__(self, asset: str, old: Decimal, new: Decimal, max_deviation: Decimal) -> None:
        self.asset = asset
        self.old = old
        self.new = new
        self.max_deviation = max_deviation
        super().__init__(
            f"price of {asset}: moves from {shown(old)} to {shown(new)}, more than the max "
            f"deviation {shown(max_deviation)} in one step"
        )


class PriceOutOfOrder(InputError):
    """A price observed before the asset's last accepted price (an oracle replaying)."""

    code = "price_out_of_order"

    def __init__(self, asset: str, timestamp: Decimal, last_timestamp: Decimal) -> None:
        self.asset = asset
        self.timestamp = timestamp
        self.last_timestamp = last_timestamp
        super().__init__(
            f"price of {asset}: observed at {shown(timestamp)}, before the last accepted price "
            f"(at {shown(last_timestamp)})"
        )


class RuleViolation(XmarginError):
    """An action refused by a rule of the engine (CLI exit 1). Nothing was changed."""

    code = "rule_violation"
    exit_code = 1


class NotLiquidatable(RuleViolation):
    code = "not_liquidatable"

    def __init__(self, account: str, health_factor: Decimal | None) -> None:
        self.account = account
        self.health_factor = health_factor
        hf = "none (no debt)" if health_factor is None else shown(health_factor)
        super().__init__(f"account {account!r} is not liquidatable: health factor {hf}")


class NothingToLiquidate(RuleViolation):
    code = "nothing_to_liquidate"

    def __init__(self, account: str, why: str) -> None:
        self.account = account
        super().__init__(f"account {account!r}: nothing to liquidate: {why}")


class WouldLeaveDust(RuleViolation):
    code = "would_leave_dust"

    def __init__(
        self, account: str, asset: str, leftover_value: Decimal, min_leftover_value: Decimal
    ) -> None:
        self.account = account
        self.asset = asset
        self.leftover_value = leftover_value
        self.min_leftover_value = min_leftover_value
        super().__init__(
            f"account {account!r}: liquidation would leave {asset} worth {shown(leftover_value)}, "
            f"below min_leftover_value {shown(min_leftover_value)}; repay all of it or leave more"
        )


class InsufficientMargin(RuleViolation):
    code = "insufficient_margin"

    def __init__(
        self, account: str, action: str, initial_collateral: Decimal, initial_debt: Decimal
    ) -> None:
        self.account = account
        self.action = action
        self.required = initial_debt
        self.actual = initial_collateral
        super().__init__(
            f"account {account!r}: {action} refused: initial_collateral "
            f"{shown(initial_collateral)} would be below initial_debt {shown(initial_debt)}"
        )


class InsufficientBalance(RuleViolation):
    code = "insufficient_balance"

    def __init__(
        self, account: str, asset: str, side: str, balance: Decimal, amount: Decimal
    ) -> None:
        self.account = account
        self.asset = asset
        self.balance = balance
        self.amount = amount
        super().__init__(
            f"account {account!r}: {side} of {asset} is {shown(balance)}, less than the amount "
            f"{shown(amount)}"
        )


class CapExceeded(RuleViolation):
    code = "cap_exceeded"

    def __init__(self, kind: str, asset: str, total_after: Decimal, cap: Decimal) -> None:
        self.kind = kind
        self.asset = asset
        self.total_after = total_after
        self.cap = cap
        super().__init__(
            f"{asset}: {kind} {shown(cap)} exceeded, total would be {shown(total_after)}"
        )

    def to_dict(self) -> dict[str, object]:
        return {"code": f"{self.kind}_exceeded", "message": self.message, "problems": []}


class IsolationViolation(RuleViolation):
    code = "isolation_violation"

    def __init__(self, account: str, why: str) -> None:
        self.account = account
        super().__init__(f"account {account!r}: isolation: {why}")


class CategoryViolation(RuleViolation):
    code = "category_violation"

    def __init__(self, account: str, category: str, asset: str) -> None:
        self.account = account
        self.category = category
        self.asset = asset
        super().__init__(
            f"account {account!r}: category {category!r} does not allow borrowing {asset}"
        )


class NotBorrowable(RuleViolation):
    code = "not_borrowable"

    def __init__(self, asset: str) -> None:
        self.asset = asset
        super().__init__(f"{asset} is not borrowable")


class OpenInterestCapExceeded(RuleViolation):
    code = "open_interest_cap_exceeded"

    def __init__(self, perp: str, side: str, total_after: Decimal, cap: Decimal) -> None:
        self.perp, self.side, self.total_after, self.cap = perp, side, total_after, cap
        super().__init__(f"{perp}: open_interest_cap {cap} exceeded, {side} would be {total_after}")


class NoPosition(RuleViolation):
    code = "no_position"

    def __init__(self, account: str, perp: str) -> None:
        self.account, self.perp = account, perp
        super().__init__(f"account {account!r} holds no position in {perp}")


# Contract 8: the liquidation designs' errors, defined beside this tree (they subclass it).
from xmargin import liquidation_errors as _liquidation_errors  # noqa: E402
from xmargin.liquidation_errors import *  # noqa: E402, F403

__all__ += _liquidation_errors.__all__

# The service's, its store's and its requests' errors (the tree above), beside it.
from xmargin import service_errors as _service_errors  # noqa: E402
from xmargin.service_errors import *  # noqa: E402, F403

__all__ += _service_errors.__all__
