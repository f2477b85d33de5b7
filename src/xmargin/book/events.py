"""What the risk book reports: account status, risk events, the liquidation queue.

An account's :class:`Status` (:mod:`xmargin.risk.status`) is ``healthy``, ``at_risk`` or
``liquidatable``; a :class:`RiskEvent` is an account crossing from one to another.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import pyarrow as pa

from xmargin._typing import BoolArray, Float64Array1D, UInt8Array1D
from xmargin.mathlib import float_text
from xmargin.risk.health import AccountHealth
from xmargin.risk.status import Status

__all__ = [
    "BookFigures",
    "BookSummary",
    "PriceUpdate",
    "QueueEntry",
    "RejectedPrice",
    "RiskEvent",
    "Status",
]


class RiskEvent(NamedTuple):
    """``account`` crossed from ``previous`` to ``status``.

    ``health_factor`` is float64 (``None`` without debt); ``exact`` says it came from the
    exact engine, which decided this account because it lay near a level.
    """

    account: str
    previous: Status
    status: Status
    health_factor: float | None
    exact: bool

    def to_dict(self) -> dict[str, object]:
        """The event as a JSON object; the health factor as a decimal string."""
        hf = self.health_factor
        return {
            "account": self.account,
            "from": self.previous.label,
            "to": self.status.label,
            "health_factor": None if hf is None else float_text(hf),
            "exact": self.exact,
        }


class RejectedPrice(NamedTuple):
    """A price the oracle guards refused, with the error's contract code and message."""

    asset: str
    price: str
    code: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"asset": self.asset, "price": self.price, "code": self.code,
                "message": self.message}  # fmt: skip


class PriceUpdate(NamedTuple):
    """The outcome of one :meth:`RiskBook.apply_prices` call.

    An update is all or nothing: if any price is rejected, ``accepted`` is empty, the book
    is unchanged and ``rejected`` lists every reason.
    """

    accepted: dict[str, Decimal]
    rejected: list[RejectedPrice]
    events: list[RiskEvent]
    repriced_accounts: int

    @property
    def ok(self) -> bool:
        return not self.rejected


class QueueEntry(NamedTuple):
    """One liquidatable account; ``shortfall_value`` = maintenance_debt − maintenance_collateral
    (quote, float64)."""

    account: str
    shortfall_value: float
    health_factor: float
    maintenance_collateral: float
    maintenance_debt: float


class BookSummary(NamedTuple):
    """Contract 4 ``stress`` summary over the whole book (money sums in float64)."""

    accounts: int
    liquidatable_accounts: int
    liquidatable_debt: float
    insolvent_debt: float


class BookFigures(NamedTuple):
    """Every figure of contract section 2 for every account, in file order.

    Float64 columns; ``liquidatable`` and ``status`` are the exact engine's decisions.
    ``exact`` holds the exact figures of the accounts decided near a level (by position
    in file order): there a float64 figure cannot show which side of 1 the account is on.
    """

    account: pa.Array
    collateral_value: Float64Array1D
    debt_value: Float64Array1D
    initial_collateral: Float64Array1D
    initial_debt: Float64Array1D
    maintenance_collateral: Float64Array1D
    maintenance_debt: Float64Array1D
    health_factor: Float64Array1D
    available_to_borrow: Float64Array1D
    liquidatable: BoolArray
    status: UInt8Array1D
    exact: dict[int, AccountHealth]
    #: contract 5.2's Σ |q|·P and Σ pnl per account (quote), where the book holds perps
    perp_notional: Float64Array1D | None = None
    unrealized_pnl: Float64Array1D | None = None
    #: contract 6.2's Σ q·value per account (quote), where the book holds options
    option_value: Float64Array1D | None = None
