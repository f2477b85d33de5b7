"""``GET /v1/assets``, ``PUT /v1/assets/{asset}`` (admin), ``POST /v1/prices`` (oracle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from xmargin.errors import InvalidRequest, MarketFileError, Problem
from xmargin.model.names import MAX_NAME_LENGTH
from xmargin.model.params import AssetParams
from xmargin.model.problems import translate_validation_error
from xmargin.service.auth import authorize
from xmargin.service.deps import (
    CurrentRole,
    IdempotencyKey,
    ServicesDep,
    read_json,
    validate_body,
)
from xmargin.service.risk_view import parse_prices
from xmargin.service.routes.common import (
    BODY_ERRORS,
    ERRORS,
    check_name,
    json_response,
    submit,
)
from xmargin.service.schemas import AssetChangeResult, AssetList, PricesRequest, PricesResult
from xmargin.service.views import asset_json
from xmargin.service.writer import PriceRequest
from xmargin.store.journal import AssetParamsChange

router = APIRouter(prefix="/v1", tags=["assets and prices"])

AssetName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_LENGTH)]
_FUTURE_SLACK = timedelta(seconds=5)


@router.get("/assets", responses={200: {"model": AssetList}, **ERRORS})
async def list_assets(key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """Every asset: parameters, price and market-wide totals. Any role."""
    authorize(key, "read_assets")
    live = services.live
    m = live.market
    return json_response(
        {
            "quote": m.params.quote,
            "assets": [asset_json(m, s, live.price_at.get(s)) for s in m.assets],
        }
    )


@router.put(
    "/assets/{asset}",
    responses={200: {"model": AssetChangeResult}, **BODY_ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The asset's table as in a market file (without price); "
            "omitted optional fields take their defaults.",
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/AssetParamsBody"},
                    "example": {
                        "collateral_factor": "0.8",
                        "liquidation_threshold": "0.83",
                        "liquidation_bonus": "0.05",
                        "max_price_deviation": "0.2",
                    },
                }
            },
        }
    },
)
async def set_asset_params(
    asset: AssetName,
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Replace an asset's risk parameters, validated as a market file is. Admin only."""
    check_name(asset, "path.asset")
    authorize(key, "set_asset_params")
    data = await read_json(request)
    current = services.live.market.asset(asset)
    where = f"assets.{asset}"
    if not isinstance(data, dict):
        raise InvalidRequest([Problem("body", "must be a JSON object (the asset's table)")])
    problems = []
    for field in ("price", "symbol"):
        if field in data:
            why = "set by the oracle (POST /v1/prices)" if field == "price" else "unknown key"
            problems.append(Problem(f"{where}.{field}", why))
    if problems:
        raise MarketFileError(f"PUT /v1/assets/{asset}", problems)
    try:
        params = AssetParams.model_validate({**data, "symbol": asset, "price": current.price})
    except ValidationError as exc:
        raise MarketFileError(
            f"PUT /v1/assets/{asset}", translate_validation_error(exc, where)
        ) from None
    return await submit(
        AssetParamsChange(params), request, data, key, services, idempotency_key, "PUT"
    )


def _observed_at(value: str | int | None) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, int):
            at = datetime.fromtimestamp(value, UTC)
        else:
            at = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):
        raise InvalidRequest(
            [Problem("body.timestamp", f"must be ISO-8601 or unix seconds, was {value!r}")]
        ) from None
    if at.tzinfo is None:
        raise InvalidRequest([Problem("body.timestamp", f"needs a time zone, was {value!r}")])
    if at > datetime.now(UTC) + _FUTURE_SLACK:
        raise InvalidRequest([Problem("body.timestamp", f"is in the future, was {value!r}")])
    return at


@router.post(
    "/prices",
    responses={200: {"model": PricesResult}, **BODY_ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": 'A batch {asset: price}, or {"prices": {asset: price}, '
            '"timestamp": ...}. Prices in quote per unit, as strings.',
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/PricesRequest"},
                            {"$ref": "#/components/schemas/PriceMap"},
                        ]
                    },
                    "example": {"WETH": "1790.25", "WBTC": "34100"},
                }
            },
        }
    },
)
async def push_prices(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """New prices, through the oracle guards (max age, max deviation). Oracle only.

    A malformed or unknown price refuses the whole batch (422/404). The risk book's oracle
    guards take a batch whole or not at all: a stale, out-of-order or deviating price
    refuses the batch (409), and each refused price is sent as a ``price_rejected`` event.
    """
    authorize(key, "push_prices")
    data = await read_json(request)
    if isinstance(data, dict) and isinstance(data.get("prices"), dict):
        req = validate_body(PricesRequest, data)
        raw, observed_at = req.prices, _observed_at(req.timestamp)
    elif isinstance(data, dict):
        raw, observed_at = data, None
    else:
        raise InvalidRequest([Problem("body", "must be a JSON object {asset: price}")])
    if not raw:
        raise InvalidRequest([Problem("body", "holds no prices")])
    prices = parse_prices(raw, services.live.market)
    return await submit(
        PriceRequest(prices, observed_at), request, data, key, services, idempotency_key
    )
