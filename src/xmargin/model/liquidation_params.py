"""Frozen parameters of the liquidation designs (contract section 8) and the market clock.

``market.liquidation`` chooses how an account below maintenance is liquidated: the close
factor of section 3 (the default), Aave v4's target health factor, a Dutch auction in the
shape of Maker's Clipper, or Compound v3's storefront. Each design reads its own optional
table of ``[market]``; a missing table means its defaults. Cross-file rules (a storefront's
``base`` names an asset of the market) are checked by the loader
(:mod:`xmargin.io.design_state`).

``market.time`` (contract 6 calls it the valuation time) is the clock auctions run on;
``--at`` moves it forward.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    model_validator,
)

from xmargin.mathlib import ONE, ZERO
from xmargin.model.numbers import Fraction, NonNegative, Number, Positive

__all__ = [
    "AuctionCurve",
    "AuctionParams",
    "LiquidationDesign",
    "MarketTime",
    "StorefrontParams",
    "TargetHealthParams",
    "format_time",
    "parse_time",
    "seconds_between",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", validate_default=True, defer_build=True)


class LiquidationDesign(StrEnum):
    """How an account below maintenance is liquidated (contract 8)."""

    CLOSE_FACTOR = "close_factor"
    TARGET = "target"
    AUCTION = "auction"
    STOREFRONT = "storefront"


def parse_time(value: Any) -> datetime:
    """A time-zone-aware instant from an ISO 8601 string or a TOML offset date-time, in UTC.

    >>> parse_time("2024-06-01T08:00:00Z")
    datetime.datetime(2024, 6, 1, 8, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"must be an ISO 8601 date-time such as 2024-06-01T08:00:00Z, was {value!r}"
            ) from None
    else:
        raise ValueError(f"must be an ISO 8601 date-time string, was {type(value).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"must carry a time zone (e.g. a trailing Z), was {value!s}")
    return dt.astimezone(UTC)


def format_time(dt: datetime) -> str:
    """The contract's form of an instant: ISO 8601 in UTC with a trailing ``Z``."""
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seconds_between(start: datetime, end: datetime) -> Decimal:
    """``end - start`` in seconds, exact (datetimes hold microseconds)."""
    d: timedelta = end - start
    micros = (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
    whole, part = divmod(micros, 1_000_000)
    return Decimal(whole) if not part else Decimal(micros).scaleb(-6)


MarketTime = Annotated[datetime, BeforeValidator(parse_time)]


def _below_one(d: Decimal) -> Decimal:
    if not ZERO <= d < ONE:
        raise ValueError(f"must be in [0, 1), was {d}")
    return d


def _open_unit(d: Decimal) -> Decimal:
    if not ZERO < d < ONE:
        raise ValueError(f"must be in (0, 1), was {d}")
    return d


def _cut(d: Decimal) -> Decimal:
    if not ZERO < d <= ONE:
        raise ValueError(f"must be in (0, 1], was {d}")
    return d


def _at_least_one(d: Decimal) -> Decimal:
    if d < ONE:
        raise ValueError(f"must be >= 1, was {d}")
    return d


class TargetHealthParams(BaseModel):
    """``[market.target_health]``: Aave v4's liquidation to a target health factor (8.1).

    ``target_health_factor`` THF >= 1; ``health_factor_for_max_bonus`` in [0, 1): at or
    below it the bonus is the collateral's maximum; ``liquidation_bonus_factor`` in [0, 1]:
    the minimum bonus as a share of the maximum (minLB = (maxLB − 1)·factor + 1).
    """

    model_config = _FROZEN

    target_health_factor: Annotated[Number, AfterValidator(_at_least_one)] = Decimal("1.05")
    health_factor_for_max_bonus: Annotated[Number, AfterValidator(_below_one)] = Decimal("0.85")
    liquidation_bonus_factor: Fraction = Decimal("0.8")


class AuctionCurve(StrEnum):
    """How an auction's price decays from its start (contract 8.2)."""

    LINEAR = "linear"
    STEP_EXPONENTIAL = "step_exponential"
    TWO_SPEED = "two_speed"


class AuctionParams(BaseModel):
    """``[market.auction]``: Dutch auctions in the shape of Maker's Clipper (8.2).

    Times in seconds; ``tip`` in quote; ``buf``, ``cut``, ``fast_floor``, ``cusp`` and
    ``chip`` are fractions (``buf`` a multiple of the oracle price).
    """

    model_config = _FROZEN

    curve: AuctionCurve = AuctionCurve.STEP_EXPONENTIAL
    buf: Positive = ONE
    tau: Positive = Decimal(3600)
    step: Positive = Decimal(90)
    cut: Annotated[Number, AfterValidator(_cut)] = Decimal("0.99")
    fast_floor: Annotated[Number, AfterValidator(_open_unit)] = Decimal("0.8")
    fast_seconds: Positive = Decimal(600)
    slow_seconds: Positive = Decimal(7200)
    tail: Positive | None = None
    cusp: Annotated[Number, AfterValidator(_below_one)] = ZERO
    tip: NonNegative = ZERO
    chip: Fraction = ZERO


class StorefrontParams(BaseModel):
    """``[market.storefront]``: Compound v3's absorb and collateral sale (contract 8.3).

    ``base`` is the asset reserves are counted in and buyers pay with; an asset's
    ``liquidation_factor`` (the share of its value an absorbed account is credited)
    defaults to 1/(1 + liquidation_bonus), the penalty of section 3; the base asset's is 1.
    """

    model_config = _FROZEN

    base: Annotated[StrictStr, Field(min_length=1)]
    store_front_price_factor: Fraction = Decimal("0.5")
    target_reserves: NonNegative = ZERO
    liquidation_factor: dict[str, Fraction] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        if self.base in self.liquidation_factor and self.liquidation_factor[self.base] != ONE:
            raise ValueError(
                f"@liquidation_factor.{self.base}: the base asset's is 1, "
                f"was {self.liquidation_factor[self.base]}"
            )
        return self
