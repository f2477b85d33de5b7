"""Options: frozen instrument and margin parameters (contract 6).

An option is a European, cash-settled call or put on an asset of the market (its
underlying, spot S = that asset's price); premium and settlement move through the balance
of its settlement asset. A position is a signed number of contracts, one unit of the
underlying each, held per account (``Account.options``).

``[option_margin]`` holds the standard (per-position) margin parameters of 6.2;
``[portfolio_margin]`` (6.3, :mod:`xmargin.model.portfolio_params`) those of portfolio
margin, which an account chooses with ``margin = "portfolio"``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator

from xmargin.mathlib import ZERO
from xmargin.model.liquidation_params import MarketTime
from xmargin.model.numbers import NonNegative, Number, Positive

__all__ = [
    "MAX_RATE",
    "MIN_RATE",
    "MarginMethod",
    "OptionKind",
    "OptionMarginParams",
    "OptionParams",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", validate_default=True, defer_build=True)

#: Bounds of an option's ``rate`` (continuously compounded, per year): a parameter check
#: (docs/contract.md 6.5) that keeps the discount factor e^(-rate*tau) a number the exact
#: context can hold.
MIN_RATE = Decimal(-1)
MAX_RATE = Decimal(10)


class OptionKind(StrEnum):
    """A call pays max(0, S - K) at expiry, a put max(0, K - S) (contract 6)."""

    CALL = "call"
    PUT = "put"


class MarginMethod(StrEnum):
    """How an account's options are margined: per position (6.2) or by scenarios (6.3)."""

    STANDARD = "standard"
    PORTFOLIO = "portfolio"


def _rate(d: Decimal) -> Decimal:
    if not MIN_RATE <= d <= MAX_RATE:
        raise ValueError(
            f"must be from {MIN_RATE} to {MAX_RATE} (continuously compounded), was {d}"
        )
    return d


Rate = Annotated[Number, AfterValidator(_rate)]


class OptionParams(BaseModel):
    """One ``[options.X]`` table (contract 6).

    ``strike`` K > 0; ``volatility`` σ >= 0 (annualised); ``forward`` F > 0, default the
    underlying's price S, one value per underlying and expiry (checked by the loader);
    ``rate`` continuously compounded, for discounting. ``expiry`` at or before
    ``market.time`` means the option is settled at load (6.1).

    Extensions (docs/contract.md 6.5): ``liquidation_fee`` and ``insurance_fee``, fractions
    of the closed notional |closed|·S paid when a position is liquidated (as a perp's,
    5.4); ``rate`` within [-1, 10].
    """

    model_config = _FROZEN

    name: Annotated[StrictStr, Field(min_length=1)]
    underlying: Annotated[StrictStr, Field(min_length=1)]
    settlement_asset: Annotated[StrictStr, Field(min_length=1)]
    kind: OptionKind
    strike: Positive
    expiry: MarketTime
    volatility: NonNegative
    forward: Positive | None = None
    rate: Rate = ZERO
    liquidation_fee: NonNegative = ZERO
    insurance_fee: NonNegative = ZERO

    @property
    def is_call(self) -> bool:
        return self.kind is OptionKind.CALL

    def expiry_key(self) -> tuple[str, datetime]:
        """(underlying, expiry): the group that shares a forward and nets in 6.2."""
        return self.underlying, self.expiry


class OptionMarginParams(BaseModel):
    """The ``[option_margin]`` table: Derive's Standard Risk Manager parameters (6.2).

    All >= 0 and ``min_spot_requirement <= max_spot_requirement``.
    """

    model_config = _FROZEN

    max_spot_requirement: NonNegative = Decimal("0.15")
    min_spot_requirement: NonNegative = Decimal("0.10")
    maintenance_spot_requirement: NonNegative = Decimal("0.075")
    maintenance_mtm_requirement: NonNegative = Decimal("0.075")
    unpaired_initial_scale: NonNegative = Decimal("1.2")
    unpaired_maintenance_scale: NonNegative = Decimal("1.1")
    maintenance_offset_scale: NonNegative = Decimal("1.05")

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        if self.min_spot_requirement > self.max_spot_requirement:
            raise ValueError(
                "@min_spot_requirement: must be <= max_spot_requirement "
                f"({self.max_spot_requirement}), was {self.min_spot_requirement}"
            )
        return self
