"""API schemas: what requests carry and responses hold (separate from ORM rows and
domain models). Bodies are read with every number kept as its text and then validated
with the domain's rules; these models document them exactly (the OpenAPI document at
``/openapi.json``). Decimals travel as strings; every response object is closed
(``additionalProperties: false``).

The asset parameter models are derived from :class:`~xmargin.model.params.AssetParams`
field by field, so a parameter added to the market file is documented here too.
"""

from __future__ import annotations

from decimal import Decimal
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    create_model,
    model_validator,
)

from xmargin.model.names import MAX_NAME_LENGTH
from xmargin.model.params import AssetParams, LiquidityParams

__all__ = [
    "MAX_SEQ",
    "AccountPublic",
    "ActionRequest",
    "ActionResult",
    "AssetChangeResult",
    "AssetList",
    "AssetParamsBody",
    "AssetParamsPublic",
    "AssetPublic",
    "AssetRisk",
    "ErrorResponse",
    "HealthPublic",
    "JournalEntryPublic",
    "JournalPage",
    "LiquidationRequest",
    "LiquidationResult",
    "PositionPublic",
    "PriceMap",
    "PricesRequest",
    "PricesResult",
    "QueueEntry",
    "QueuePublic",
    "RiskSummary",
]

#: The largest journal sequence number or event id a request may name (2^53 - 1: every
#: JSON reader holds it exactly, and both databases store it).
MAX_SEQ = 2**53 - 1

_IN = ConfigDict(extra="forbid")
_OUT = ConfigDict(extra="forbid")

DecimalText = Annotated[
    Any,
    Field(
        description="An exact decimal: a JSON string (preferred) or number; never a float. "
        "Contract syntax, at most 60 significant digits, magnitude 0 or 1e-36..1e24.",
        json_schema_extra={
            "anyOf": [{"type": "string", "maxLength": 100}, {"type": "number"}],
            "examples": ["1.5"],
        },
    ),
]
Name = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="An account id, asset symbol or category name (contract: Names).",
    ),
]
Decimal_ = Annotated[str, Field(description="An exact decimal, as a string")]


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
    """Body of ``POST /v1/prices`` with a timestamp: ``{"prices": {...}, "timestamp"}``."""

    model_config = _IN
    prices: dict[StrictStr, DecimalText]
    timestamp: (
        Annotated[StrictStr, Field(max_length=64)]
        | Annotated[StrictInt, Field(ge=0, le=MAX_SEQ)]
        | None
    ) = Field(
        default=None,
        description="When the prices were observed: ISO-8601 with a zone, or unix seconds "
        "(an integer). Default: now. Checked against each asset's max_price_age_seconds.",
    )


class PriceMap(BaseModel):
    """Body of ``POST /v1/prices`` in its short form: ``{asset: price}``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": {}})


# -- asset parameters, derived from AssetParams ------------------------------------------
def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not NoneType]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _field_types(kind: Literal["in", "out"]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, info in AssetParams.model_fields.items():
        if name in ("symbol", "price"):
            continue
        base, optional = _strip_optional(info.annotation)
        typ: Any
        if base is Decimal:
            typ = DecimalText if kind == "in" else Decimal_
        elif base is bool:
            typ = StrictBool if kind == "in" else bool
        elif base is int:
            typ = StrictInt if kind == "in" else int
        elif base is LiquidityParams:
            typ = LiquidityBody if kind == "in" else LiquidityPublic
        else:  # a parameter of a kind this module does not know: documented as any value
            typ = Any
        required = info.is_required()
        if (optional or not required) and typ is not Any:
            typ = typ | None
        default: Any = ... if required else None
        fields[name] = (typ, Field(default, description=info.description))
    return fields


class LiquidityBody(BaseModel):
    """An asset's ``liquidity`` table (hypothetical modeling, see the market file)."""

    model_config = _IN
    model: Literal["cpmm", "depth"]
    reserve_units: DecimalText = None
    reserve_quote: DecimalText = None
    depth: list[list[DecimalText]] | None = None


class LiquidityPublic(BaseModel):
    model_config = _OUT
    model: Literal["cpmm", "depth"]
    reserve_units: Decimal_ | None = None
    reserve_quote: Decimal_ | None = None
    depth: list[list[Decimal_]] | None = None


AssetParamsBody: type[BaseModel] = create_model(
    "AssetParamsBody",
    __config__=_IN,
    __doc__="Body of ``PUT /v1/assets/{asset}``: the asset's table as in a market file, "
    "without ``price`` (set by the oracle); omitted optional fields take their defaults.",
    **_field_types("in"),
)
AssetParamsPublic: type[BaseModel] = create_model(
    "AssetParamsPublic",
    __config__=_OUT,
    __doc__="An asset's parameters (every field of its market-file table but price); "
    "optional fields that are not set are absent.",
    **_field_types("out"),
)


# -- responses -------------------------------------------------------------------------
class PositionPublic(BaseModel):
    """A perp position (contract 5.1): ``size`` signed base units (> 0 long), its entry
    price and funding snapshot f, and at the oracle price now its ``notional`` and ``pnl``
    (quote, unsettled funding included)."""

    model_config = _OUT
    size: str
    entry_price: str
    funding_index: str
    notional: str
    pnl: str


class AccountPublic(BaseModel):
    """Balances, perp positions, every figure of contract section 2 and the two of 5.2."""

    model_config = _OUT
    account: str
    category: str | None
    supply: dict[str, str]
    borrow: dict[str, str]
    perps: dict[str, PositionPublic] = Field(description="Perp positions by perp name")
    collateral_value: str
    debt_value: str
    initial_collateral: str
    initial_debt: str
    maintenance_collateral: str
    maintenance_debt: str
    health_factor: str | None
    available_to_borrow: str
    liquidatable: bool
    perp_notional: str = Field(description="Σ |q|·P over the perp positions (contract 5.2)")
    unrealized_pnl: str = Field(description="Σ pnl over the perp positions (contract 5.2)")
    risk_level: str | None = Field(
        description="healthy | at_risk | liquidatable (the risk view's: the book's, and the "
        "exact engine's for an account with perp positions)"
    )
    options: dict[str, str] | None = Field(
        None,
        description="Option positions, contracts by option (contract 6); present "
        "only for an account with options or portfolio margin, as the next two",
    )
    option_value: str | None = Field(None, description="Σ q·value of its options (6.2)")
    margin: str | None = Field(None, description='"standard" or "portfolio" (6.3)')


class ActionResult(BaseModel):
    model_config = _OUT
    seq: int = Field(description="The journal sequence number of this action")
    action: str
    asset: str
    amount: str
    account: AccountPublic


class LiquidationResult(BaseModel):
    """The contract's ``liquidate`` JSON (section 4), the CLI's ``bonus``, and, for a
    liquidation done, the journal ``seq`` and the ``liquidator`` key."""

    model_config = _OUT
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
    insurance_fund_used: dict[str, str] = Field(
        description="Units of written-off debt the insurance fund covered (contract 5.5)"
    )
    bonus: str = Field(description="The bonus β applied (contract 3.3), as a fraction")
    seq: int | None = None
    liquidator: str | None = None


class PricesResult(BaseModel):
    model_config = _OUT
    seq: int
    accepted: dict[str, str]


class AssetPublic(BaseModel):
    model_config = _OUT
    asset: str
    price: str
    price_at: str | None
    params: AssetParamsPublic
    total_supply: str
    total_borrow: str
    deficit: str


class AssetChangeResult(BaseModel):
    """The answer to ``PUT /v1/assets/{asset}``: its journal entry and the asset now."""

    model_config = _OUT
    seq: int
    asset: AssetPublic


class AssetList(BaseModel):
    model_config = _OUT
    quote: str
    assets: list[AssetPublic]


class QueueEntry(BaseModel):
    model_config = _OUT
    account: str
    health_factor: str | None
    debt_value: str
    collateral_value: str
    risk_level: str
    insolvent: bool = Field(description="Debt worth more than collateral: bad debt ahead")
    debt_asset: str | None = Field(description="The largest debt by value")
    collateral_asset: str | None = Field(description="The largest collateral by value")
    perp: str | None = Field(
        description="The largest perp position by notional (liquidate it with the perp form)"
    )


class QueuePublic(BaseModel):
    model_config = _OUT
    accounts: list[QueueEntry]
    liquidatable_accounts: int


class AssetRisk(BaseModel):
    """One asset's totals in ``GET /v1/risk/summary``."""

    model_config = _OUT
    price: str
    total_supply: str
    total_borrow: str
    supply_value: str
    borrow_value: str
    deficit: str
    deficit_value: str
    utilization: str | None = Field(
        description="total_borrow / total_supply, 18 decimal places (rounded up); null "
        "without supply"
    )
    supply_index: str = Field(
        description="The cumulative factor socialised losses scaled deposits by (contract "
        "8.4); 1 until a loss is spread over the asset's depositors"
    )


class RiskSummary(BaseModel):
    model_config = _OUT
    quote: str
    accounts: int
    by_level: dict[str, int]
    liquidatable_accounts: int
    liquidatable_debt: str
    insolvent_debt: str
    total_supply_value: str
    total_borrow_value: str
    deficit_value: str
    deficit: dict[str, str]
    insurance_fund: dict[str, str] = Field(
        description="Units per asset that absorb written-off debt before the deficit (5.5)"
    )
    assets: dict[str, AssetRisk]
    journal_seq: int


class JournalEntryPublic(BaseModel):
    model_config = _OUT
    seq: int
    at: str
    kind: str
    account: str | None
    actor: str | None
    idempotency_key: str | None
    command: dict[str, Any] = Field(description="The command as journalled (by kind)")
    result: dict[str, Any] = Field(description="Its result as journalled (by kind)")


class JournalPage(BaseModel):
    model_config = _OUT
    entries: list[JournalEntryPublic]
    last_seq: int


class HealthPublic(BaseModel):
    model_config = _OUT
    status: Literal["ok", "degraded"]
    database: str
    journal_seq: int
    accounts: int
    writer_queue: int
    #: ``serve --cluster`` only: this process's role
    role: Literal["writer", "follower"] | None = None


class ErrorDetail(BaseModel):
    model_config = _OUT
    code: str
    message: str
    problems: list[str]


class ErrorResponse(BaseModel):
    model_config = _OUT
    error: ErrorDetail
