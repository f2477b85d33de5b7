"""Frozen parameter models: market, asset and category (contract section 1).

Validated once, at load; scenarios change them with ``model_copy(update=...)`` and then
``revalidate``. Cross-field rules report the field they concern with a leading ``@field:``
that the loader turns into a location (``assets.WETH.liquidation_threshold``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    model_validator,
)

from xmargin.mathlib import ONE, ZERO
from xmargin.model.liquidation_params import (
    AuctionParams,
    LiquidationDesign,
    MarketTime,
    StorefrontParams,
    TargetHealthParams,
)
from xmargin.model.numbers import (
    MAX_DECIMALS,
    Fraction,
    MaxOne,
    NonNegative,
    Number,
    Positive,
)

__all__ = ["AssetParams", "BonusPolicy", "CategoryParams", "LiquidityParams", "MarketParams"]

_FROZEN = ConfigDict(frozen=True, extra="forbid", validate_default=True, defer_build=True)


class BonusPolicy(StrEnum):
    """How the liquidation bonus is chosen (contract 3.3)."""

    FIXED = "fixed"
    THRESHOLD = "threshold"
    HEALTH = "health"


def _close_factor(d: Decimal) -> Decimal:
    if not ZERO < d <= ONE:
        raise ValueError(f"must be in (0, 1], was {d}")
    return d


def _max_bonus(d: Decimal) -> Decimal:
    if not ZERO <= d < ONE:
        raise ValueError(f"must be in [0, 1), was {d}")
    return d


def _decimals(d: int) -> int:
    if not 0 <= d <= MAX_DECIMALS:
        raise ValueError(f"must be an integer from 0 to {MAX_DECIMALS}, was {d}")
    return d


class MarketParams(BaseModel):
    """The ``[market]`` table: market-wide liquidation rules."""

    model_config = _FROZEN

    name: StrictStr | None = None
    quote: Annotated[StrictStr, Field(min_length=1)]
    close_factor: Annotated[Number, AfterValidator(_close_factor)] = Decimal("0.5")
    full_liquidation_health: Fraction = Decimal("0.95")
    small_position_value: NonNegative = ZERO
    min_leftover_value: NonNegative = ZERO
    bonus_policy: BonusPolicy = BonusPolicy.FIXED
    max_bonus: Annotated[Number, AfterValidator(_max_bonus)] = Decimal("0.15")
    accounts_file: StrictStr | None = None
    # Contract 5 (perpetual futures): cap on weighted positive PnL in initial_collateral,
    # and the long-form file of perp positions of a large book (extension, 5.8).
    pnl_initial_cap: NonNegative | None = None
    perps_file: StrictStr | None = None
    # Contract 6 (options): the long-form file of option positions (extension, 6.5).
    options_file: StrictStr | None = None
    # Contract 8 (liquidation designs, xmargin.model.liquidation_params) and the clock.
    liquidation: LiquidationDesign = LiquidationDesign.CLOSE_FACTOR
    time: MarketTime | None = None
    target_health: TargetHealthParams | None = None
    auction: AuctionParams | None = None
    storefront: StorefrontParams | None = None


class LiquidityParams(BaseModel):
    """An asset's ``liquidity`` table: where liquidators sell seized collateral.

    Contract extension (hypothetical modeling): optional, used only by the simulation
    cascade (:mod:`xmargin.analytics.liquidity`). Two models:

    - ``cpmm``: a constant-product pool with ``reserve_units`` of the asset and
      ``reserve_quote`` of the quote; ``k = reserve_units * reserve_quote`` is the depth,
      re-centred on the oracle price (an arbitraged pool at mid ``m`` holds
      ``sqrt(k / m)`` units).
    - ``depth``: an order-book depth curve, ``[[x, value], ...]``: ``value`` of the quote
      can be sold before the price falls by the fraction ``x`` (0 < x < 1) below mid;
      both columns strictly increasing.
    """

    model_config = _FROZEN

    model: Literal["cpmm", "depth"]
    reserve_units: Positive | None = None
    reserve_quote: Positive | None = None
    depth: tuple[tuple[Number, Number], ...] | None = None

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        problems: list[str] = []
        if self.model == "cpmm":
            for key in ("reserve_units", "reserve_quote"):
                if getattr(self, key) is None:
                    problems.append(f"@{key}: required by model cpmm")
            if self.depth is not None:
                problems.append("@depth: not used by model cpmm")
        else:
            for key in ("reserve_units", "reserve_quote"):
                if getattr(self, key) is not None:
                    problems.append(f"@{key}: not used by model depth")
            problems.extend(_depth_problems(self.depth))
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _depth_problems(depth: tuple[tuple[Decimal, Decimal], ...] | None) -> list[str]:
    """Located problems of a depth curve (strictly increasing points in (0,1) x (0,inf))."""
    if not depth:
        return ["@depth: required by model depth: at least one [fraction, value] point"]
    out: list[str] = []
    prev_x, prev_v = ZERO, ZERO
    for i, (x, v) in enumerate(depth):
        if not ZERO < x < ONE:
            out.append(f"@depth.{i}.0: must be a fraction in (0, 1), was {x}")
        elif x <= prev_x:
            out.append(f"@depth.{i}.0: must be above the previous point's {prev_x}, was {x}")
        if v <= ZERO:
            out.append(f"@depth.{i}.1: must be > 0, was {v}")
        elif v <= prev_v:
            out.append(f"@depth.{i}.1: must be above the previous point's {prev_v}, was {v}")
        prev_x, prev_v = max(prev_x, x), max(prev_v, v)
    return out


class AssetParams(BaseModel):
    """One ``[assets.X]`` table: price and risk parameters of an asset."""

    model_config = _FROZEN

    symbol: Annotated[StrictStr, Field(min_length=1)]
    price: Positive
    collateral_factor: Fraction
    liquidation_threshold: Fraction
    liquidation_bonus: NonNegative
    protocol_fee: Fraction = ZERO
    borrow_weight: MaxOne = ONE
    maintenance_borrow_weight: MaxOne = ONE
    size_factor: NonNegative = ZERO
    supply_cap: NonNegative | None = None
    borrow_cap: NonNegative | None = None
    borrowable: StrictBool = True
    debt_ceiling: NonNegative | None = None
    borrowable_in_isolation: StrictBool = False
    decimals: Annotated[int, Field(strict=True), AfterValidator(_decimals)] = 18
    # Contract extensions (issue: oracle guards of the risk book).
    max_price_age_seconds: Positive | None = None
    max_price_deviation: Positive | None = None
    # Contract extension (issue: hypothetical modeling): where seized collateral is sold.
    liquidity: LiquidityParams | None = None

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        problems: list[str] = []
        if self.collateral_factor > self.liquidation_threshold:
            problems.append(
                f"@liquidation_threshold: must be >= collateral_factor ({self.collateral_factor})"
            )
        if self.borrow_weight < self.maintenance_borrow_weight:
            problems.append(
                "@borrow_weight: must be >= maintenance_borrow_weight "
                f"({self.maintenance_borrow_weight})"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def is_isolated(self) -> bool:
        """An asset with a debt ceiling is isolated collateral (contract 1.3)."""
        return self.debt_ceiling is not None


class CategoryParams(BaseModel):
    """One ``[categories.X]`` table: a correlated-asset class (efficiency mode)."""

    model_config = _FROZEN

    name: Annotated[StrictStr, Field(min_length=1)]
    collateral_factor: Fraction
    liquidation_threshold: Fraction
    liquidation_bonus: NonNegative
    assets: Annotated[tuple[StrictStr, ...], Field(min_length=1)]
    borrowable: tuple[StrictStr, ...] | None = None

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        problems: list[str] = []
        if self.collateral_factor > self.liquidation_threshold:
            problems.append(
                f"@liquidation_threshold: must be >= collateral_factor ({self.collateral_factor})"
            )
        if self.borrowable is not None:
            extra = [a for a in self.borrowable if a not in self.assets]
            if extra:
                problems.append(f"@borrowable: not members of the category: {', '.join(extra)}")
        if len(set(self.assets)) != len(self.assets):
            problems.append("@assets: lists an asset twice")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def allows_borrow(self, asset: str) -> bool:
        """Whether an account of this category may borrow ``asset``."""
        allowed = self.borrowable if self.borrowable is not None else self.assets
        return asset in allowed


def dump_params(model: BaseModel) -> dict[str, Any]:
    """The non-default fields of a params model, for writing a market file back."""
    return model.model_dump(exclude_defaults=True)
