"""Options (contract 6): the option form of ``POST /v1/accounts/{id}/trade`` (the account's
own key; :func:`trade_option`, which the trade route hands a body with ``option`` to),
``POST /v1/liquidations/options`` (liquidator), ``GET /v1/accounts/{id}/greeks`` (as the
account's other reads) and ``GET /v1/options`` (every role).

An option trades at its mark value: the service keeps no order book, and a premium of the
caller's choosing would move value to or from nobody (the library's ``price`` is for
what-if questions). Numbers are checked here, before anything is queued.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from xmargin.mathlib import fmt
from xmargin.model.liquidation_params import format_time
from xmargin.risk.greeks import account_greeks
from xmargin.risk.options import mark_value
from xmargin.risk.trading import parse_size
from xmargin.service.auth import authorize
from xmargin.service.deps import (
    CurrentRole,
    IdempotencyKey,
    Services,
    ServicesDep,
    validate_body,
)
from xmargin.service.routes.common import (
    BODY_ERRORS,
    ERRORS,
    body_doc,
    check_name,
    json_response,
    read_body,
    require_account,
    submit,
)
from xmargin.service.schemas_options import (
    AccountGreeks,
    OptionLiquidationRequest,
    OptionLiquidationResult,
    OptionList,
    OptionTradeRequest,
)
from xmargin.store.commands_options import OptionLiquidation, TradeOption
from xmargin.store.records import ApiKey
from xmargin.store.types import to_jsonable

router = APIRouter(prefix="/v1", tags=["options"])

__all__ = ["router", "trade_option"]


async def trade_option(
    account_id: str,
    request: Request,
    data: Any,
    key: ApiKey,
    services: Services,
    idempotency_key: str | None,
) -> JSONResponse:
    """The option form of the trade route: ``size`` contracts of ``option`` at the mark
    value (contract 6.4); refused (409) when it raises risk past initial margin."""
    body = validate_body(OptionTradeRequest, data)
    m = services.live.market
    option = m.option(body.option)
    size = parse_size(body.size, m.asset(option.underlying).decimals, "size")
    require_account(m, account_id)
    return await submit(
        TradeOption(account_id, body.option, size), request, data, key, services, idempotency_key
    )


@router.post(
    "/liquidations/options",
    responses={200: {"model": OptionLiquidationResult}, **BODY_ERRORS},
    openapi_extra=body_doc("OptionLiquidationRequest", {"account": "writer"}),
)
async def liquidate_options(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Close an account's option positions at their mark value, shorts first, until its
    health is at least 1 or none is left; then bad debt, the insurance fund first
    (docs/contract.md 6.5). Liquidator only."""
    authorize(key, "liquidate")
    data, body = await read_body(request, OptionLiquidationRequest)
    require_account(services.live.market, body.account)
    return await submit(
        OptionLiquidation(body.account), request, data, key, services, idempotency_key
    )


@router.get("/accounts/{account_id}/greeks", responses={200: {"model": AccountGreeks}, **ERRORS})
async def greeks(account_id: str, key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """Delta, gamma, vega and theta of the account per underlying it is exposed to
    (docs/contract.md 6.5: ``xmargin greeks --json``'s entry). Admin, liquidator, and the
    account's own key."""
    check_name(account_id, "path.account_id")
    authorize(key, "read_account", account_id)
    m = services.live.market
    rows = account_greeks(m, account_id)
    return json_response(
        {"account": account_id, "greeks": [to_jsonable(g._asdict()) for g in rows]}
    )


@router.get("/options", responses={200: {"model": OptionList}, **ERRORS})
async def list_options(key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """Every option with its parameters, mark value and holders. Every role."""
    authorize(key, "read_assets")
    m = services.live.market
    holders: dict[str, int] = {}
    for acc in m.accounts.values():
        for name in acc.options:
            holders[name] = holders.get(name, 0) + 1
    rows = [
        {
            "option": name,
            "underlying": o.underlying,
            "settlement_asset": o.settlement_asset,
            "kind": o.kind.value,
            "strike": fmt(o.strike),
            "expiry": format_time(o.expiry),
            "volatility": fmt(o.volatility),
            "forward": fmt(o.forward) if o.forward is not None else None,
            "rate": fmt(o.rate),
            "mark_value": fmt(mark_value(m, name)),
            "positions": holders.get(name, 0),
        }
        for name, o in m.options.items()
    ]
    clock = m.params.time
    return json_response(
        {
            "quote": m.params.quote,
            "time": format_time(clock) if clock is not None else None,
            "options": rows,
        }
    )
