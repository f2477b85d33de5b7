"""API schemas of the analysis endpoints (``/v1/analysis/*``, contract section 7).

Requests are validated with these models (unknown fields refused); every response is
validated against its model before it is sent, so the documented schema is exact.
Decimals travel as strings; ``null`` where a figure is undefined.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)

from xmargin.model.numbers import NumberToken, parse_number

__all__ = [
    "CalibrateRequest",
    "CalibrationResponse",
    "NetworkRequest",
    "NetworkResponse",
    "OptimizeRequest",
    "OptimizeResponse",
]

_IN = ConfigDict(extra="forbid")
_OUT = ConfigDict(extra="forbid")

Dec = Annotated[str, Field(description="An exact decimal as a string.", examples=["0.855"])]
OptDec = Dec | None
Asset = Annotated[StrictStr, Field(min_length=1, max_length=64)]


def _real(value: object) -> object:
    """A JSON number of the body (kept as its text by the reader) as a float, through the
    contract's number syntax (:func:`~xmargin.model.numbers.parse_number`)."""
    if isinstance(value, NumberToken):
        return float(parse_number(value))
    return value


#: A float read from a request body: the contract's number syntax, then a float.
Real = Annotated[float, BeforeValidator(_real)]
Vol = Annotated[Real, Field(ge=0, le=10, allow_inf_nan=False)]


# -- requests ------------------------------------------------------------------------------
class CalibrateRequest(BaseModel):
    """Body of ``POST /v1/analysis/calibrate``: stated annual volatilities per asset."""

    model_config = _IN
    volatility: dict[Asset, Vol] = Field(min_length=1, max_length=200)
    assets: list[Asset] | None = Field(default=None, max_length=200)
    confidence: Annotated[Real, Field(gt=0.5, lt=1)] = 0.99
    horizon_days: Annotated[Real, Field(gt=0, le=3650)] | None = None
    recovery: Annotated[Real, Field(gt=0, le=1e6)] = 1.0
    min_horizon_days: Annotated[Real, Field(gt=0, le=3650)] = 1.0
    horizon_basis: Literal["account", "market"] = "account"
    cf_buffer_sigmas: Annotated[Real, Field(ge=0, le=20)] = 1.0
    cf_buffer_days: Annotated[Real, Field(ge=0, le=365)] = 1.0
    check_paths: Annotated[StrictInt, Field(ge=100, le=20_000)] = 4000
    seed: Annotated[StrictInt, Field(ge=0)] = 0


class OptimizeRequest(BaseModel):
    """Body of ``POST /v1/analysis/optimize``: a GBM with stated volatilities (the service
    holds no price files); a proposal only, nothing is changed."""

    model_config = _IN
    var99_max: Annotated[Real, Field(ge=0, allow_inf_nan=False)]
    volatility: dict[Asset, Vol] = Field(min_length=1, max_length=200)
    correlation: Annotated[Real, Field(ge=-1, le=1)] | None = None
    static: list[Asset] = Field(default_factory=list, max_length=200)
    assets: list[Asset] | None = Field(default=None, max_length=200)
    lar_max: Annotated[Real, Field(ge=0, allow_inf_nan=False)] | None = None
    max_step: Annotated[Real, Field(gt=0, le=0.5)] = 0.03
    candidates: Annotated[StrictInt, Field(ge=1, le=20)] = 10
    method: Literal["chaos", "joint"] = "chaos"
    paths: Annotated[StrictInt, Field(ge=100, le=20_000)] = 2000
    horizon: Annotated[StrictStr, Field(min_length=1, max_length=20)] = "24h"
    steps: Annotated[StrictInt, Field(ge=1, le=48)] = 1
    seed: Annotated[StrictInt, Field(ge=0)] = 0
    settle_first: StrictBool = True
    use_liquidity: StrictBool = True


class NetworkRequest(BaseModel):
    """Body of ``POST /v1/analysis/network``: shocks and, optionally, entities."""

    model_config = _IN
    shocks: dict[Asset, StrictStr | Real] = Field(default_factory=dict, max_length=200)
    entities: (
        dict[Annotated[StrictStr, Field(min_length=1, max_length=200)], dict[str, object]] | None
    ) = Field(default=None, max_length=1000)
    max_edges: Annotated[StrictInt, Field(ge=0, le=100_000)] = 1000


# -- responses -----------------------------------------------------------------------------
class _Pair(BaseModel):
    model_config = _OUT
    current: OptDec
    recommended: Dec


class _Garch(BaseModel):
    model_config = _OUT
    omega: OptDec
    alpha: OptDec
    beta: OptDec
    long_run_volatility: OptDec
    converged: bool


class _Horizon(BaseModel):
    model_config = _OUT
    source: Literal["given", "floor", "liquidity"]
    basis: Literal["account", "market"]
    account_position_value: OptDec
    market_position_value: OptDec
    liquidity_within_bonus: OptDec
    recovery_per_day: OptDec
    days_account: OptDec
    days_market: OptDec


class _MonteCarloCheck(BaseModel):
    model_config = _OUT
    haircut: OptDec
    std_error: OptDec
    paths: int
    monitoring: str


class _HistoricalCheck(BaseModel):
    model_config = _OUT
    haircut: OptDec
    windows: int


class _Checks(BaseModel):
    model_config = _OUT
    monte_carlo: _MonteCarloCheck
    historical: _HistoricalCheck | None = None


class _SmartLtv(BaseModel):
    model_config = _OUT
    ltv: OptDec
    c: OptDec
    debt: OptDec
    debt_source: str
    liquidity_per_day: OptDec


class CalibrationAsset(BaseModel):
    model_config = _OUT
    asset: str
    series: str
    volatility: OptDec
    estimator: str
    volatilities: dict[str, OptDec]
    garch: _Garch | None
    horizon_days: OptDec
    horizon: _Horizon
    haircut: OptDec
    haircut_terminal: OptDec
    checks: _Checks
    liquidation_threshold: _Pair
    collateral_factor: _Pair
    liquidation_bonus: OptDec
    smartltv: _SmartLtv
    observations: int
    despiked: int
    flags: list[str]


class CalibrationResponse(BaseModel):
    """Contract 7.1's document (``confidence``, ``assets``) and its extensions."""

    model_config = _OUT
    confidence: Dec
    estimator: str
    # ``lambda`` is a Python keyword: the field keeps its JSON name through an alias.
    lam: OptDec = Field(alias="lambda")
    return_step_hours: OptDec
    source: str
    quote: str
    assets: list[CalibrationAsset]


class _Figures(BaseModel):
    model_config = _OUT
    var99: OptDec
    var99_std_error: OptDec
    liquidations_at_risk: OptDec
    capacity: OptDec
    borrowed: OptDec
    usage: OptDec


class _CurvePoint(_Figures):
    delta: str


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    asset: str
    parameter: str
    from_: OptDec = Field(alias="from")
    to: Dec


class OptimizeResponse(BaseModel):
    """Contract 7.2's document (``feasible``, ``before``, ``after``, ``changes``)."""

    model_config = _OUT
    feasible: bool
    var99_max: OptDec
    lar_max: OptDec
    method: str
    evaluations: int
    before: _Figures
    after: _Figures
    changes: list[_Change]
    curves: dict[str, list[_CurvePoint]]
    caps: list[dict[str, str | None]]
    warnings: list[str]


class _AssetConcentration(BaseModel):
    model_config = _OUT
    asset: str
    supply_hhi: OptDec
    top10_supply_share: OptDec
    supply_value: OptDec
    supply_accounts: int
    debt_hhi: OptDec
    top10_debt_share: OptDec
    debt_value: OptDec
    debt_accounts: int
    seized_share: OptDec
    price: OptDec
    liquidity_model: Literal["none", "cpmm", "depth"]


class _Edge(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    asset: str


class _Contagion(BaseModel):
    model_config = _OUT
    edges: list[_Edge]
    edge_count: int
    edges_truncated: bool
    largest_cascade: list[str]
    largest_cascade_size: int
    largest_cascade_source: str | None
    sources_examined: int
    exact: bool


class _Depeg(BaseModel):
    model_config = _OUT
    issuer: str
    recovery: OptDec
    price_before: OptDec
    price_after: OptDec
    change: OptDec


class _Entities(BaseModel):
    model_config = _OUT
    payments: dict[str, OptDec]
    defaulted: list[str]
    shortfall: dict[str, OptDec]
    total_liabilities: dict[str, OptDec]
    creditor_losses: dict[str, OptDec]
    equity: dict[str, OptDec]
    depegs: dict[str, _Depeg]
    rounds: int


class NetworkResponse(BaseModel):
    """Contract 7.3's document (``assets``, ``contagion``, ``entities``)."""

    model_config = _OUT
    shocks: dict[str, OptDec]
    assets: list[_AssetConcentration]
    liquidation: dict[str, OptDec | int]
    contagion: _Contagion
    entities: _Entities | None = None
