"""API schemas of perpetual futures (contract 5): trade, settle, funding, the perp list,
and the perp form of a liquidation. Closed, as every schema of the service
(:mod:`xmargin.service.schemas`): decimals travel as strings; a request's numbers are read
as written and validated by the contract's number rules before anything is queued.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from xmargin.service.schemas import DecimalText, Name

__all__ = [
    "FundingRequest",
    "FundingResult",
    "PerpLiquidationRequest",
    "PerpLiquidationResult",
    "PerpList",
    "PerpPublic",
    "SettleRequest",
    "SettleResult",
    "TradeRequest",
    "TradeResult",
    "one_amount",
]

_IN = ConfigDict(extra="forbid")
_OUT = ConfigDict(extra="forbid")
Units = dict[str, str]


def one_amount(amount: Any, max_: bool, what: str) -> None:
    """Exactly one of ``amount`` (a number, or ``"max"``) and ``"max": true``; else 422."""
    has_amount = amount is not None and amount != "max"
    if has_amount == (max_ or amount == "max"):
        raise ValueError(f'send exactly one of "{what}" or "max": true')


# -- requests --------------------------------------------------------------------------
class TradeRequest(BaseModel):
    """Body of ``POST /v1/accounts/{id}/trade``: ``size`` signed base units (+ buys,
    − sells), held to the underlying's decimals; executed at the oracle price."""

    model_config = _IN
    perp: Name
    size: DecimalText


class SettleRequest(BaseModel):
    """Body of ``POST /v1/accounts/{id}/settle``."""

    model_config = _IN
    perp: Name


class FundingRequest(BaseModel):
    """Body of ``POST /v1/perps/{perp}/funding``: the new funding index F (quote per base
    unit, any sign; a rise makes longs pay shorts)."""

    model_config = _IN
    funding_index: DecimalText


class PerpLiquidationRequest(BaseModel):
    """The perp form of ``POST /v1/liquidations`` (contract 5.4): ``size`` base units of
    the position to close, or ``max``."""

    model_config = _IN
    account: Name
    perp: Name
    size: DecimalText = None
    max: StrictBool = False

    @model_validator(mode="after")
    def _size_or_max(self) -> Self:
        one_amount(self.size, self.max, "size")
        return self

    @property
    def wants_max(self) -> bool:
        return self.max or self.size == "max"


# -- responses -------------------------------------------------------------------------
class TradeResult(BaseModel):
    """The CLI's ``trade`` JSON (contract 5.7, ``price`` the execution price) and ``seq``."""

    model_config = _OUT
    account: str
    perp: str
    size_before: str
    size_after: str
    entry_price: str | None = Field(description="null once the position is closed")
    realized_pnl: str
    funding_paid: str = Field(description="> 0 when the account paid funding")
    health_factor_before: str | None
    health_factor_after: str | None
    price: str
    seq: int


class SettleResult(BaseModel):
    """The CLI's ``settle`` JSON (contract 5.8) and ``seq``."""

    model_config = _OUT
    account: str
    perp: str
    size: str
    price: str
    realized_pnl: str
    funding_paid: str
    health_factor_before: str | None
    health_factor_after: str | None
    seq: int


class FundingResult(BaseModel):
    """The CLI's ``funding`` JSON (contract 5.8) and ``seq``."""

    model_config = _OUT
    perp: str
    funding_index: str
    previous: str
    seq: int


class PerpLiquidationResult(BaseModel):
    """The CLI's ``liquidate --perp`` JSON (contract 5.7, with ``funding_paid``); for a
    liquidation done, its ``seq`` and the ``liquidator`` key."""

    model_config = _OUT
    account: str
    perp: str
    closed: str
    price: str
    realized_pnl: str
    liquidator_fee: str
    insurance_fee: str
    health_factor_before: str | None
    health_factor_after: str | None
    bad_debt: Units
    insurance_fund_used: Units = Field(
        description="Units of written-off debt the insurance fund covered (contract 5.5)"
    )
    funding_paid: str
    seq: int | None = None
    liquidator: str | None = None


class PerpPublic(BaseModel):
    """One perp: its parameters, its oracle price (the underlying's), funding index F and
    open interest per side (base units)."""

    model_config = _OUT
    perp: str
    underlying: str
    settlement_asset: str
    price: str
    funding_index: str
    open_interest_long: str
    open_interest_short: str
    open_interest_cap: str | None
    initial_margin: str
    maintenance_margin: str
    size_factor: str
    liquidation_fee: str
    insurance_fee: str
    pnl_initial_weight: str
    positions: int = Field(description="Accounts holding a position")


class PerpList(BaseModel):
    """``GET /v1/perps``: every perp, and the insurance fund (units per asset)."""

    model_config = _OUT
    quote: str
    perps: list[PerpPublic]
    insurance_fund: Units
