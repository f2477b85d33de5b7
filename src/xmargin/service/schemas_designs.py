"""API schemas of the liquidation designs and the loss waterfall (contract 8): auctions,
the storefront, socialised loss and deleveraging. Closed, as every schema of the service;
the results are the CLI's documents (contract 8.5) with the journal ``seq``.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from xmargin.service.schemas import DecimalText, Name
from xmargin.service.schemas_perps import one_amount

__all__ = [
    "AbsorbRequest",
    "AbsorbResult",
    "AuctionList",
    "AuctionPublic",
    "AuctionResetResult",
    "AuctionStartRequest",
    "AuctionStartResult",
    "AuctionStatusPublic",
    "AuctionTakeRequest",
    "AuctionTakeResult",
    "BuyCollateralRequest",
    "BuyCollateralResult",
    "Counterparty",
    "DeleverageRequest",
    "DeleverageResult",
    "PerpLossResult",
    "SocializeRequest",
    "SpotLossResult",
    "StorefrontHolding",
    "StorefrontPublic",
]

_IN = ConfigDict(extra="forbid")
_OUT = ConfigDict(extra="forbid")
Units = dict[str, str]
KEY = Field(default=None, description="The API key that acted (journal actor)")


# -- requests --------------------------------------------------------------------------
class AuctionStartRequest(BaseModel):
    """Body of ``POST /v1/auctions``: auction ``amount`` units of the debt (or ``max``)."""

    model_config = _IN
    account: Name
    debt_asset: Name
    collateral_asset: Name
    amount: DecimalText = None
    max: StrictBool = False

    @model_validator(mode="after")
    def _amount_or_max(self) -> Self:
        one_amount(self.amount, self.max, "amount")
        return self

    @property
    def wants_max(self) -> bool:
        return self.max or self.amount == "max"


class AuctionTakeRequest(BaseModel):
    """Body of ``POST /v1/auctions/{id}/take``: ``amount`` units of collateral (or
    ``max``: the whole lot); refused above ``max_price`` (debt units per unit)."""

    model_config = _IN
    amount: DecimalText = None
    max: StrictBool = False
    max_price: DecimalText = None

    @model_validator(mode="after")
    def _amount_or_max(self) -> Self:
        one_amount(self.amount, self.max, "amount")
        return self

    @property
    def wants_max(self) -> bool:
        return self.max or self.amount == "max"


class AbsorbRequest(BaseModel):
    """Body of ``POST /v1/absorb``."""

    model_config = _IN
    account: Name


class BuyCollateralRequest(BaseModel):
    """Body of ``POST /v1/buy-collateral``: pay ``amount`` units of the base asset, or
    ``max``: buy all the protocol holds of ``asset``."""

    model_config = _IN
    asset: Name
    amount: DecimalText = None
    max: StrictBool = False

    @model_validator(mode="after")
    def _amount_or_max(self) -> Self:
        one_amount(self.amount, self.max, "amount")
        return self

    @property
    def wants_max(self) -> bool:
        return self.max or self.amount == "max"


class SocializeRequest(BaseModel):
    """Body of ``POST /v1/socialize``: exactly one of ``perp`` (over its open interest)
    and ``asset`` (over its depositors); ``amount`` units of the deficit, default all."""

    model_config = _IN
    perp: Name | None = None
    asset: Name | None = None
    amount: DecimalText = None

    @model_validator(mode="after")
    def _perp_or_asset(self) -> Self:
        if (self.perp is None) == (self.asset is None):
            raise ValueError('send exactly one of "perp" or "asset"')
        return self


class DeleverageRequest(BaseModel):
    """Body of ``POST /v1/deleverage``."""

    model_config = _IN
    account: Name
    perp: Name


# -- responses -------------------------------------------------------------------------
class AuctionPublic(BaseModel):
    """A running auction (``state.auctions``): ``debt``, ``tab`` in debt units, ``lot`` in
    collateral units, ``top`` debt units per collateral unit, ``tic`` ISO 8601."""

    model_config = _OUT
    id: int
    account: str
    debt_asset: str
    collateral_asset: str
    debt: str
    tab: str
    lot: str
    top: str
    tic: str


class AuctionStartResult(BaseModel):
    """``auction start`` (contract 8.5); ``bad_debt``: what the keeper's pay added to the
    deficit beyond the insurance fund."""

    model_config = _OUT
    auction: AuctionPublic
    bonus: str
    keeper_incentive: str
    insurance_fund_used: Units
    bad_debt: Units
    health_factor_before: str | None
    health_factor_after: str | None
    time: str
    seq: int | None = None
    liquidator: str | None = KEY


class AuctionTakeResult(BaseModel):
    """``auction take`` (contract 8.5); ``auction`` is null once it ended."""

    model_config = _OUT
    auction_id: int
    account: str
    debt_asset: str
    collateral_asset: str
    price: str
    bought: str
    paid: str
    principal: str
    penalty: str
    returned: str
    bad_debt: Units
    insurance_fund_used: Units
    health_factor_after: str | None
    auction: AuctionPublic | None
    time: str
    seq: int
    liquidator: str | None = KEY


class AuctionResetResult(BaseModel):
    """``auction reset`` (contract 8.5)."""

    model_config = _OUT
    auction: AuctionPublic
    previous_price: str
    reason: str
    keeper_incentive: str
    insurance_fund_used: Units
    bad_debt: Units
    time: str
    seq: int
    liquidator: str | None = KEY


class AuctionStatusPublic(BaseModel):
    """A running auction now: its price, age and whether it needs a reset."""

    model_config = _OUT
    id: int
    account: str
    debt_asset: str
    collateral_asset: str
    debt: str
    tab: str
    lot: str
    top: str
    tic: str
    price: str
    age_seconds: str
    needs_reset: bool
    reset_reason: str | None


class AuctionList(BaseModel):
    """``GET /v1/auctions`` (``auction status``): every running auction at ``time``."""

    model_config = _OUT
    time: str
    auctions: list[AuctionStatusPublic]


class AbsorbResult(BaseModel):
    """``absorb`` (contract 8.5); ``reserves`` after it."""

    model_config = _OUT
    account: str
    base: str
    seized: Units
    absorbed_debt: Units
    collateral_value: str
    credited_value: str
    debt_value: str
    excess: str
    protocol_value: str
    health_factor_before: str | None
    health_factor_after: str | None
    reserves: Units
    seq: int | None = None
    liquidator: str | None = KEY


class BuyCollateralResult(BaseModel):
    """``buy-collateral`` (contract 8.5)."""

    model_config = _OUT
    asset: str
    base: str
    paid: str
    bought: str
    price: str
    buyer_value: str
    reserves_before: str
    reserves_after: str
    seq: int
    liquidator: str | None = KEY


class StorefrontHolding(BaseModel):
    """Absorbed collateral the protocol holds, and its store-front price now."""

    model_config = _OUT
    asset: str
    units: str
    price: str = Field(description="The oracle price, quote per unit")
    store_front_price: str = Field(description="What a buyer pays, quote per unit")


class StorefrontPublic(BaseModel):
    """``GET /v1/storefront``: reserves, target, what is for sale."""

    model_config = _OUT
    base: str
    reserves: Units
    target_reserves: str
    for_sale: bool = Field(description="Reserves of base below target: collateral is sold")
    holdings: list[StorefrontHolding]


class PerpLossResult(BaseModel):
    """``socialize --perp`` (contract 8.5)."""

    model_config = _OUT
    perp: str
    asset: str
    loss: str
    loss_value: str
    open_interest_long: str
    open_interest_short: str
    funding_delta: str
    charged_value: str
    deficit_after: str
    seq: int


class SpotLossResult(BaseModel):
    """``socialize --asset`` (contract 8.5)."""

    model_config = _OUT
    asset: str
    loss: str
    total_supply: str
    index_before: str
    index_after: str
    taken: str
    deficit_after: str
    seq: int


class Counterparty(BaseModel):
    model_config = _OUT
    account: str
    score: str
    closed: str
    realized_pnl: str
    borne_value: str


class DeleverageResult(BaseModel):
    """``deleverage`` (contract 8.5)."""

    model_config = _OUT
    account: str
    perp: str
    net_value: str
    price: str
    bankruptcy_price: str
    closed: str
    counterparties: list[Counterparty]
    health_factor_before: str | None
    health_factor_after: str | None
    bad_debt: Units
    insurance_fund_used: Units
    seq: int
