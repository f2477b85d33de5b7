"""API schemas of ``POST /v1/analysis/compare-designs`` (contract 8.6, ``simulate compare``).

The request states what the CLI's options state (the shocks, the designs, the steps, the
paths and their noise); the response is contract 8.6's JSON, validated against
:class:`CompareDesignsResponse` before it is sent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from xmargin.service.analysis_schemas import Asset, Dec, OptDec, Real, Vol

__all__ = ["CompareDesignsRequest", "CompareDesignsResponse"]

Design = Literal["fixed", "threshold", "health", "target", "auction", "storefront"]
Duration = Annotated[StrictStr, Field(min_length=1, max_length=32, examples=["10m", "4h"])]


class CompareDesignsRequest(BaseModel):
    """Body: ``shocks`` as ``{"WETH": "-30%"}``; the rest as ``simulate compare``'s
    options, with its defaults."""

    model_config = ConfigDict(extra="forbid")
    shocks: dict[Asset, StrictStr | Real] = Field(min_length=1, max_length=200)
    designs: list[Design] = Field(
        default=["fixed", "threshold", "health", "target", "auction", "storefront"],
        min_length=1,
        max_length=6,
    )
    steps: Annotated[StrictInt, Field(ge=1, le=100_000)] = 1
    step: Duration = "10m"
    horizon: Duration = "4h"
    paths: Annotated[StrictInt, Field(ge=1, le=1000)] = 1
    seed: Annotated[StrictInt, Field(ge=0, le=2**32 - 1)] = 0
    volatility: dict[Asset, Vol] = Field(default_factory=dict, max_length=200)
    gas: Annotated[Real, Field(ge=0, le=1e12, allow_inf_nan=False)] = 0.0


class _Figures(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bad_debt: Dec
    bad_debt_p99: Dec
    liquidated_volume: Dec
    liquidator_profit: Dec
    borrower_loss: Dec
    insurance_fund_drawdown: Dec
    protocol_revenue: Dec
    time_to_clear_hours: OptDec
    cleared_share: Dec
    liquidations: Dec


class CompareDesignsResponse(BaseModel):
    """Contract 8.6's JSON: the run and, per design, its figures (means over the paths)."""

    model_config = ConfigDict(extra="forbid")
    quote: str
    shocks: dict[str, Dec]
    paths: int
    seed: int
    steps: int
    step_hours: Dec
    liquidity_models: bool
    designs: dict[str, _Figures]
