"""Response schemas of the dashboard's read-only endpoints (exact: extra fields forbidden).

Figures travel as decimal strings: exact ones as the contract prints them (``fmt``);
book-wide sums, computed in float64 over every account, to :data:`FLOAT_DIGITS`
significant digits; ratios (utilisation, use of a cap, shares) rounded down to 6 places.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccountRiskPublic",
    "BookTotals",
    "ConcentrationPublic",
    "ExposurePublic",
    "HealthBinPublic",
    "HealthFigures",
    "LiquidationBinPublic",
    "LiquidationMapPublic",
    "NearLiquidationPublic",
    "Overview",
    "PositionPublic",
    "PriceHistory",
    "PricePointPublic",
    "PriceStatus",
    "QueueRow",
    "SessionPublic",
    "StatusCounts",
    "WhatIfLiquidation",
    "WhatIfPublic",
]

#: Significant digits of a float64 book-wide sum.
FLOAT_DIGITS = 12

_OUT = ConfigDict(extra="forbid")


class SessionPublic(BaseModel):
    """Who the key is: what the dashboard shows it."""

    model_config = _OUT
    role: str
    account: str | None = Field(description="The account an account key acts for")
    sees_book: bool = Field(description="Admin, oracle and liquidator see the whole book")


class StatusCounts(BaseModel):
    """Accounts by status (disjoint; see :mod:`xmargin.analytics.overview`)."""

    model_config = _OUT
    healthy: int
    at_risk: int
    liquidatable: int
    insolvent: int


class BookTotals(BaseModel):
    """Totals in quote. ``insurance_fund`` is null while the market has none."""

    model_config = _OUT
    collateral_value: str
    debt_value: str
    borrowing_power: str
    liquidatable_debt: str
    insolvent_shortfall: str
    deficit_value: str
    insurance_fund: str | None


class PriceStatus(BaseModel):
    model_config = _OUT
    asset: str
    price: str
    price_at: str | None = Field(description="When the price was observed (ISO-8601)")
    age_seconds: str | None
    max_price_age_seconds: str | None
    stale: bool = Field(description="Older than the asset's max_price_age_seconds")


class ConcentrationPublic(BaseModel):
    model_config = _OUT
    holders: int
    largest: str | None
    largest_share: str | None
    top5_share: str | None
    hhi: str | None = Field(description="Herfindahl-Hirschman index of the holders' shares")


class ExposurePublic(BaseModel):
    """One asset's exposure: units, values (quote), caps and their use, concentration."""

    model_config = _OUT
    asset: str
    price: str
    total_supply: str
    total_borrow: str
    supply_value: str
    borrow_value: str
    utilization: str | None
    supply_cap: str | None
    supply_cap_use: str | None
    borrow_cap: str | None
    borrow_cap_use: str | None
    debt_ceiling: str | None
    isolation_debt: str | None
    debt_ceiling_use: str | None
    deficit: str
    deficit_value: str
    suppliers: ConcentrationPublic
    borrowers: ConcentrationPublic


class QueueRow(BaseModel):
    """A liquidatable account (the risk book's queue, largest shortfall first)."""

    model_config = _OUT
    account: str
    health_factor: str | None
    debt_value: str
    collateral_value: str
    insolvent: bool


class NearLiquidationPublic(BaseModel):
    model_config = _OUT
    account: str
    health_factor: str
    debt_value: str
    collateral_value: str


class HealthBinPublic(BaseModel):
    """Accounts with debt whose health factor is in [low, high); ``high`` null: open."""

    model_config = _OUT
    low: str
    high: str | None
    accounts: int
    debt_value: str
    collateral_value: str


class Overview(BaseModel):
    """The whole book at one journal position."""

    model_config = _OUT
    market: str | None
    quote: str
    journal_seq: int
    computed_at: str
    accounts: int
    accounts_with_debt: int
    by_status: StatusCounts
    totals: BookTotals
    prices: list[PriceStatus]
    exposure: list[ExposurePublic]
    queue: list[QueueRow]
    nearest: list[NearLiquidationPublic] = Field(
        description="Accounts not yet liquidatable, lowest health factor first"
    )
    health: list[HealthBinPublic]


class LiquidationBinPublic(BaseModel):
    model_config = _OUT
    price_low: str
    price_high: str
    accounts: int
    collateral_value: str
    debt_value: str
    cumulative_collateral_value: str = Field(
        description="Collateral liquidatable once the price has fallen to price_low"
    )


class LiquidationMapPublic(BaseModel):
    """How much collateral becomes liquidatable at each price below today's."""

    model_config = _OUT
    asset: str
    quote: str
    price: str
    depth: str
    journal_seq: int
    bins: list[LiquidationBinPublic]
    liquidatable_now: int
    liquidatable_now_collateral_value: str
    below_range: int
    below_range_collateral_value: str


class PricePointPublic(BaseModel):
    model_config = _OUT
    seq: int
    at: str
    price: str


class PriceHistory(BaseModel):
    model_config = _OUT
    quote: str
    assets: dict[str, list[PricePointPublic]]


class HealthFigures(BaseModel):
    """Every figure of contract section 2."""

    model_config = _OUT
    collateral_value: str
    debt_value: str
    initial_collateral: str
    initial_debt: str
    maintenance_collateral: str
    maintenance_debt: str
    health_factor: str | None
    available_to_borrow: str
    liquidatable: bool
    status: str = Field(description="healthy | at_risk | liquidatable | insolvent")


class PositionPublic(BaseModel):
    """One asset of an account, its effective weights and its liquidation price."""

    model_config = _OUT
    asset: str
    price: str
    supply: str
    borrow: str
    supply_value: str
    borrow_value: str
    collateral_factor: str
    liquidation_threshold: str
    borrow_weight: str
    maintenance_borrow_weight: str
    liquidation_price: str | None = Field(
        description="Price at which the health factor is 1, other prices fixed (contract 4)"
    )
    liquidation_change: str | None = Field(description="liquidation_price / price − 1")


class AccountRiskPublic(BaseModel):
    model_config = _OUT
    account: str
    category: str | None
    quote: str
    journal_seq: int
    health: HealthFigures
    positions: list[PositionPublic]


class WhatIfLiquidation(BaseModel):
    """The largest liquidation at the shocked prices (contract 3, ``max``)."""

    model_config = _OUT
    debt_asset: str
    collateral_asset: str
    repaid: str
    seized: str
    bonus: str
    health_factor_after: str | None
    bad_debt: dict[str, str]


class WhatIfPublic(BaseModel):
    """The account before and after a price shock; nothing is changed."""

    model_config = _OUT
    account: str
    shocks: dict[str, str]
    prices: dict[str, str]
    before: HealthFigures
    after: HealthFigures
    liquidation: WhatIfLiquidation | None
    refused: str | None = Field(description="Why no liquidation is possible, if liquidatable")
