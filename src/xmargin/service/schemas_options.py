"""API schemas of options (contract 6): the option form of a trade, the liquidation of an
account's option positions, an account's greeks and the option list. Closed, as every
schema of the service (:mod:`xmargin.service.schemas`): decimals travel as strings.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from xmargin.service.schemas import DecimalText, Name

__all__ = [
    "AccountGreeks",
    "GreeksRow",
    "OptionLiquidationRequest",
    "OptionLiquidationResult",
    "OptionList",
    "OptionPublic",
    "OptionTradeRequest",
    "OptionTradeResult",
]

_IN = ConfigDict(extra="forbid")
_OUT = ConfigDict(extra="forbid")
Units = dict[str, str]


class OptionTradeRequest(BaseModel):
    """The option form of ``POST /v1/accounts/{id}/trade``: ``size`` signed contracts (+
    buys, − sells), held to the underlying's decimals; executed at the mark value."""

    model_config = _IN
    option: Name
    size: DecimalText


class OptionLiquidationRequest(BaseModel):
    """Body of ``POST /v1/liquidations/options``: the account whose option positions are
    closed (docs/contract.md 6.5)."""

    model_config = _IN
    account: Name


class OptionTradeResult(BaseModel):
    """The CLI's ``trade --option`` JSON (contract 6.4) and ``seq``."""

    model_config = _OUT
    account: str
    option: str
    size_before: str
    size_after: str
    entry_price: None = Field(description="always null: the premium is paid at the trade")
    realized_pnl: str
    funding_paid: str
    health_factor_before: str | None
    health_factor_after: str | None
    price: str = Field(description="Quote per contract: the mark value, held to 18 places")
    premium: str = Field(description="size·price; > 0 when the account paid")
    seq: int


class ClosedOptionResult(BaseModel):
    model_config = _OUT
    option: str
    size_before: str
    closed: str
    value: str
    liquidator_fee: str
    insurance_fee: str


class OptionLiquidationResult(BaseModel):
    """The CLI's ``liquidate --options`` JSON; for a liquidation done, its ``seq`` and the
    ``liquidator`` key."""

    model_config = _OUT
    account: str
    options: list[ClosedOptionResult]
    liquidator_fee: str
    insurance_fee: str
    health_factor_before: str | None
    health_factor_after: str | None
    bad_debt: Units
    insurance_fund_used: Units
    seq: int | None = None
    liquidator: str | None = None


class GreeksRow(BaseModel):
    """One underlying's greeks (docs/contract.md 6.5)."""

    model_config = _OUT
    underlying: str
    spot: str
    delta: str = Field(description="∂V/∂S, units of the underlying")
    gamma: str
    vega: str = Field(description="quote per 1.00 of volatility")
    theta: str = Field(description="quote per day of calendar time")


class AccountGreeks(BaseModel):
    """``GET /v1/accounts/{id}/greeks``: as one entry of ``xmargin greeks --json``."""

    model_config = _OUT
    account: str
    greeks: list[GreeksRow]


class OptionPublic(BaseModel):
    """One option: its parameters and its mark value per contract (quote)."""

    model_config = _OUT
    option: str
    underlying: str
    settlement_asset: str
    kind: str
    strike: str
    expiry: str
    volatility: str
    forward: str | None
    rate: str
    mark_value: str
    positions: int = Field(description="Accounts holding a position")


class OptionList(BaseModel):
    """``GET /v1/options``: every option at ``time`` (the market's clock)."""

    model_config = _OUT
    quote: str
    time: str | None
    options: list[OptionPublic]
