"""Frozen parameter models: market, asset and category (contract section 1).

Validated once, at load; scenarios change them with ``model_copy(update=...)`` and then
``revalidate``. Cross-field rules report the field they concern with a leading ``@field:``
that the loader turns into a location (``assets.WETH.liquidation_threshold``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

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
from xmargin.model.numbers import Fraction, MaxOne, NonNegative, Number, Positive

__all__ = ["AssetParams", "BonusPolicy", "CategoryParams", "MarketParams"]

_FROZEN = ConfigDict(frozen=True, extra="forbid", validate_default=True)


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
    if not 0 <= d <= 36:
        raise ValueError(f"must be an integer from 0 to 36, was {d}")
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
