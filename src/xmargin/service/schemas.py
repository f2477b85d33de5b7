"""API schemas: what requests carry and responses hold (separate from ORM rows and
domain models). Bodies are read with every number as an exact Decimal and then validated
with these models; responses are documented with them. Decimals travel as strings.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

__all__ = [
    "AccountPublic",
    "ActionRequest",
    "ActionResult",
    "AssetList",
    "AssetPublic",
    "ErrorResponse",
    "JournalPage",
    "LiquidationRequest",
    "LiquidationResult",
    "PricesRequest",
    "PricesResult",
    "QueueEntry",
    "QueuePublic",
    "RiskSummary",
]

_IN = ConfigDict(extra="forbid")

DecimalText = Annotated[
    Any,
    Field(
        description="An exact decimal: a JSON string (preferred) or number; never a float.",
        json_schema_extra={"anyOf": [{"type": "string"}, {"type": "number"}], "examples": ["1.5"]},
    ),
]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200)]


# -- requests --------------------------------------------------------------------------
class ActionRequest(BaseModel):
    """Body of deposit, withdraw, borrow and repay."""

    model_config = _IN
    asset: Name
    amount: DecimalText


class LiquidationRequest(BaseModel):
    """Body of ``POST /v1/liquidations``: an ``amount`` of the debt asset, or ``max``."""

    model_config = _IN
    account: Name
    debt_asset: Name
    collateral_asset: Name
    amount: DecimalText = None
    max: StrictBool = False

    @model_validator(mode="after")
    def _amount_or_max(self) -> Self:
        has_amount = self.amount is not None and self.amount != "max"
        wants_max = self.max or self.amount == "max"
        if has_amount == wants_max:
            raise ValueError(
                'send exactly one of "amount" (units of the debt asset) or "max": true'
            )
        return self

    @property
    def wants_max(self) -> bool:
        return self.max or self.amount == "max"


class PricesRequest(BaseModel):
    """Body of ``POST /v1/prices``: ``{asset: price}``, or this form with a timestamp."""

    model_config = _IN
    prices: dict[StrictStr, DecimalText]
    timestamp: StrictStr | int | None = Field(
        default=None,
        description="When the prices were observed: ISO-8601 with a zone, or unix seconds. "
        "Default: now. Checked against each asset's max_price_age_seconds.",
    )


# -- responses -------------------------------------------------------------------------
class AccountPublic(BaseModel):
    """Balances and every figure of contract section 2."""

    account: str
    category: str | None
    supply: dict[str, str]
    borrow: dict[str, str]
    collateral_value: str
    debt_value: str
    initial_collateral: str
    initial_debt: str
    maintenance_collateral: str
    maintenance_debt: str
    health_factor: str | None
    available_to_borrow: str
    liquidatable: bool
    risk_level: str | None = Field(description="healthy | at_risk | liquidatable (the risk book's)")


class ActionResult(BaseModel):
    seq: int = Field(description="The journal sequence number of this action")
    action: str
    asset: str
    amount: str
    account: AccountPublic


class LiquidationResult(BaseModel):
    """The contract's ``liquidate`` JSON (section 4), plus the journal ``seq``."""

    account: str
    debt_asset: str
    collateral_asset: str
    repaid: str
    seized: str
    liquidator_receives: str
    protocol_fee: str
    health_factor_before: str | None
    health_factor_after: str | None
    bad_debt: dict[str, str]
    seq: int | None = None
    liquidator: str | None = None


class PricesResult(BaseModel):
    seq: int
    accepted: dict[str, str]


class AssetPublic(BaseModel):
    asset: str
    price: str
    price_at: str | None
    params: dict[str, Any]
    total_supply: str
    total_borrow: str
    deficit: str


class AssetList(BaseModel):
    quote: str
    assets: list[AssetPublic]


class QueueEntry(BaseModel):
    account: str
    health_factor: str | None
    debt_value: str
    collateral_value: str
    risk_level: str
    insolvent: bool = Field(description="Debt worth more than collateral: bad debt ahead")
    debt_asset: str | None = Field(description="The largest debt by value")
    collateral_asset: str | None = Field(description="The largest collateral by value")


class QueuePublic(BaseModel):
    accounts: list[QueueEntry]
    liquidatable_accounts: int


class RiskSummary(BaseModel):
    model_config = ConfigDict(extra="allow")
    quote: str
    accounts: int
    by_level: dict[str, int]
    liquidatable_accounts: int
    deficit: dict[str, str]
    journal_seq: int


class JournalEntryPublic(BaseModel):
    seq: int
    at: str
    kind: str
    account: str | None
    actor: str | None
    idempotency_key: str | None
    command: dict[str, Any]
    result: dict[str, Any]


class JournalPage(BaseModel):
    entries: list[JournalEntryPublic]
    last_seq: int


class ErrorDetail(BaseModel):
    code: str
    message: str
    problems: list[str]


class ErrorResponse(BaseModel):
    error: ErrorDetail
