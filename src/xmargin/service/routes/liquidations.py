"""``GET /v1/liquidations/queue``, ``GET /v1/liquidations/quote``, ``POST /v1/liquidations``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from xmargin.errors import UnknownAccount
from xmargin.mathlib import ZERO, fmt
from xmargin.model.market import Market
from xmargin.model.names import MAX_NAME_LENGTH
from xmargin.risk.liquidation import quote_liquidation
from xmargin.risk.validation import parse_amount
from xmargin.service.auth import authorize
from xmargin.service.deps import (
    CurrentRole,
    IdempotencyKey,
    ServicesDep,
    fingerprint,
    read_json,
    validate_body,
)
from xmargin.service.routes.common import BODY_ERRORS, ERRORS, json_response, outcome_response
from xmargin.service.schemas import LiquidationRequest, LiquidationResult, QueuePublic
from xmargin.store.journal import Liquidation, liquidation_json

router = APIRouter(prefix="/v1", tags=["liquidations"])

Name = Annotated[str, Query(min_length=1, max_length=MAX_NAME_LENGTH)]


def _largest(market: Market, units: dict[str, Decimal]) -> str | None:
    best, best_value = None, ZERO
    for a, u in units.items():
        v = u * market.assets[a].price
        if best is None or v > best_value:
            best, best_value = a, v
    return best


@router.get("/liquidations/queue", responses={200: {"model": QueuePublic}, **ERRORS})
async def liquidation_queue(
    key: CurrentRole,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> JSONResponse:
    """Liquidatable accounts, largest shortfall first (the risk book's queue), with their
    exact figures; ``insolvent``: debt worth more than collateral. Admin and liquidator."""
    authorize(key, "read_liquidations")
    m = services.live.market
    rows = services.risk.queue(m, limit)
    return json_response(
        {
            "accounts": [
                {
                    "account": i,
                    "health_factor": fmt(h.health_factor),
                    "debt_value": fmt(h.debt_value),
                    "collateral_value": fmt(h.collateral_value),
                    "risk_level": level,
                    "insolvent": h.debt_value > h.collateral_value,
                    "debt_asset": _largest(m, m.accounts[i].borrow),
                    "collateral_asset": _largest(m, m.accounts[i].supply),
                }
                for i, h, level in rows
            ],
            "liquidatable_accounts": services.risk.counts()["liquidatable"],
        }
    )


def _amount(market: Market, debt_asset: str, amount: object) -> Decimal | Literal["max"]:
    if amount == "max":
        return "max"
    return parse_amount(amount, market.asset(debt_asset).decimals, "amount")


@router.get("/liquidations/quote", responses={200: {"model": LiquidationResult}, **ERRORS})
async def liquidation_quote(
    key: CurrentRole,
    services: ServicesDep,
    account: Name,
    debt_asset: Name,
    collateral_asset: Name,
    amount: Annotated[
        str, Query(min_length=1, max_length=100, description='Units of the debt asset, or "max"')
    ] = "max",
) -> JSONResponse:
    """What ``POST /v1/liquidations`` would do now, without doing it. Admin and liquidator."""
    authorize(key, "read_liquidations")
    m = services.live.market
    m.asset(debt_asset)
    m.asset(collateral_asset)
    want = _amount(m, debt_asset, amount)
    quote = quote_liquidation(m, account, debt_asset, collateral_asset, want)
    return json_response(liquidation_json(quote))


@router.post(
    "/liquidations",
    responses={200: {"model": LiquidationResult}, **BODY_ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/LiquidationRequest"},
                    "example": {
                        "account": "eth-underwater",
                        "debt_asset": "USDC",
                        "collateral_asset": "WETH",
                        "max": True,
                    },
                }
            },
        }
    },
)
async def liquidate(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Liquidate as contract section 3 says; returns the contract's JSON. Liquidator only."""
    authorize(key, "liquidate")
    data = await read_json(request)
    body = validate_body(LiquidationRequest, data)
    m = services.live.market
    m.asset(body.debt_asset)
    m.asset(body.collateral_asset)
    want = "max" if body.wants_max else _amount(m, body.debt_asset, body.amount)
    if body.account not in m.accounts:
        raise UnknownAccount(body.account)
    outcome = await services.writer.submit(
        Liquidation(body.account, body.debt_asset, body.collateral_asset, want),
        key.id,
        idempotency_key,
        fingerprint("POST", request.url.path, data),
    )
    return outcome_response(outcome)
