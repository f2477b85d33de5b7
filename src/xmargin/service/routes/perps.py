"""Perpetual futures (contract 5): ``POST /v1/accounts/{id}/trade`` and ``/settle`` (the
account's own key), ``POST /v1/perps/{perp}/funding`` (oracle), ``GET /v1/perps``.

A trade executes at the oracle price P: the service holds no order book, and a price of
the caller's choosing would let an account mint PnL against nobody (the library's
``price`` is for what-if questions). Numbers are checked here, before anything is queued.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from xmargin.errors import InvalidAmount
from xmargin.mathlib import ZERO, fmt
from xmargin.model.names import MAX_NAME_LENGTH
from xmargin.model.numbers import NumberError, parse_number
from xmargin.risk.trading import parse_size
from xmargin.service.auth import authorize
from xmargin.service.deps import (
    CurrentRole,
    IdempotencyKey,
    ServicesDep,
    read_json,
    validate_body,
)
from xmargin.service.routes.common import (
    BODY_ERRORS,
    ERRORS,
    AccountId,
    body_doc,
    check_name,
    json_response,
    read_body,
    require_account,
    submit,
)
from xmargin.service.routes.options import trade_option
from xmargin.service.schemas_options import OptionTradeResult
from xmargin.service.schemas_perps import (
    FundingRequest,
    FundingResult,
    PerpList,
    SettleRequest,
    SettleResult,
    TradeRequest,
    TradeResult,
)
from xmargin.store.commands_perps import SetFunding, Settle, Trade

router = APIRouter(prefix="/v1", tags=["perps"])

PerpName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_LENGTH)]


@router.post(
    "/accounts/{account_id}/trade",
    responses={200: {"model": TradeResult | OptionTradeResult}, **BODY_ERRORS},
    openapi_extra=body_doc(
        ["TradeRequest", "OptionTradeRequest"], {"perp": "ETH-PERP", "size": "-0.5"}
    ),
)
async def trade(
    account_id: AccountId,
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Trade ``size`` base units of a perp (+ buys, − sells) at its oracle price (contract
    5.3): funding settles first; refused (409) when it raises risk past initial margin or
    an open-interest cap. With ``option`` instead of ``perp``: ``size`` contracts at the
    option's mark value (contract 6.4). The account's own key only."""
    check_name(account_id, "path.account_id")
    authorize(key, "trade", account_id)
    data = await read_json(request)
    if isinstance(data, dict) and "option" in data:
        return await trade_option(account_id, request, data, key, services, idempotency_key)
    body = validate_body(TradeRequest, data)
    m = services.live.market
    perp = m.perp(body.perp)
    size = parse_size(body.size, m.asset(perp.underlying).decimals, "size")
    require_account(m, account_id)
    return await submit(
        Trade(account_id, body.perp, size), request, data, key, services, idempotency_key
    )


@router.post(
    "/accounts/{account_id}/settle",
    responses={200: {"model": SettleResult}, **BODY_ERRORS},
    openapi_extra=body_doc("SettleRequest", {"perp": "ETH-PERP"}),
)
async def settle(
    account_id: AccountId,
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Realise a position's pnl and funding into the settlement asset, its size unchanged
    (contract 5.3, 5.8). The account's own key only."""
    check_name(account_id, "path.account_id")
    authorize(key, "trade", account_id)
    data, body = await read_body(request, SettleRequest)
    m = services.live.market
    m.perp(body.perp)
    require_account(m, account_id)
    return await submit(
        Settle(account_id, body.perp), request, data, key, services, idempotency_key
    )


@router.post(
    "/perps/{perp}/funding",
    responses={200: {"model": FundingResult}, **BODY_ERRORS},
    openapi_extra=body_doc("FundingRequest", {"funding_index": "12.5"}),
)
async def set_funding(
    perp: PerpName,
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Set a perp's funding index F (contract 5.3): positions owe q·(F − f) and settle it
    when they next trade. Oracle only."""
    check_name(perp, "path.perp")
    authorize(key, "set_funding")
    data, body = await read_body(request, FundingRequest)
    services.live.market.perp(perp)
    try:
        index = parse_number(body.funding_index)
    except NumberError as exc:
        raise InvalidAmount("funding_index", body.funding_index, exc.reason) from None
    return await submit(SetFunding(perp, index), request, data, key, services, idempotency_key)


@router.get("/perps", responses={200: {"model": PerpList}, **ERRORS})
async def list_perps(key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """Every perp with its oracle price, funding index and open interest, and the
    insurance fund. Every role."""
    authorize(key, "read_assets")
    m = services.live.market
    holders: dict[str, int] = {}
    for acc in m.accounts.values():
        for name in acc.perps:
            holders[name] = holders.get(name, 0) + 1
    perps = []
    for name, p in m.perps.items():
        long, short = m.open_interest.get(name, (ZERO, ZERO))
        perps.append(
            {
                "perp": name,
                "underlying": p.underlying,
                "settlement_asset": p.settlement_asset,
                "price": fmt(m.perp_price(p)),
                "funding_index": fmt(p.funding_index),
                "open_interest_long": fmt(long),
                "open_interest_short": fmt(short),
                "open_interest_cap": fmt(p.open_interest_cap),
                "initial_margin": fmt(p.initial_margin),
                "maintenance_margin": fmt(p.maintenance_margin),
                "size_factor": fmt(p.size_factor),
                "liquidation_fee": fmt(p.liquidation_fee),
                "insurance_fee": fmt(p.insurance_fee),
                "pnl_initial_weight": fmt(p.pnl_initial_weight),
                "positions": holders.get(name, 0),
            }
        )
    fund = {a: fmt(u) for a, u in m.insurance_fund.items() if u}
    return json_response({"quote": m.params.quote, "perps": perps, "insurance_fund": fund})
