"""The liquidation designs and the loss waterfall (contract 8) as endpoints.

=====================================  ===========  ===================================
endpoint                               role         contract
=====================================  ===========  ===================================
``GET /v1/auctions``                   admin, liq.  ``auction status`` (8.2)
``POST /v1/auctions``                  liquidator   ``auction start`` (Maker's bark)
``POST /v1/auctions/{id}/take``        liquidator   ``auction take``
``POST /v1/auctions/{id}/reset``       liquidator   ``auction reset`` (redo)
``GET /v1/storefront``                 admin, liq.  reserves and holdings (8.3)
``POST /v1/absorb``                    liquidator   ``absorb``
``POST /v1/buy-collateral``            liquidator   ``buy-collateral``
``POST /v1/socialize``                 admin        ``socialize`` (8.4)
``POST /v1/deleverage``                admin        ``deleverage`` (8.4)
=====================================  ===========  ===================================

Keepers start, take and reset auctions and absorb accounts (in Maker and Compound these
are anyone's calls, paid by incentives): the ``liquidator`` role. Spreading a deficit over
other accounts and closing their positions is governance's: ``admin``.

Auction actions happen at the service's clock (UTC; never before ``market.time``, which
they then move to): a caller cannot choose when, as the CLI's ``--at`` does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from xmargin.errors import InputError
from xmargin.liquidation_errors import UnknownAuction
from xmargin.mathlib import ZERO, fmt
from xmargin.model.liquidation_params import LiquidationDesign
from xmargin.model.numbers import MAX_DECIMALS
from xmargin.risk.auction_curves import auction_status
from xmargin.risk.storefront import liquidation_factor, store_front_price
from xmargin.risk.validation import parse_amount, parse_price
from xmargin.service.auth import authorize
from xmargin.service.deps import (
    CurrentRole,
    IdempotencyKey,
    ServicesDep,
)
from xmargin.service.ledger_commands import action_time
from xmargin.service.routes.common import (
    BODY_ERRORS,
    ERRORS,
    body_doc,
    json_response,
    read_body,
    require_account,
    require_design,
    submit,
)
from xmargin.service.schemas import MAX_SEQ
from xmargin.service.schemas_designs import (
    AbsorbRequest,
    AbsorbResult,
    AuctionList,
    AuctionResetResult,
    AuctionStartRequest,
    AuctionStartResult,
    AuctionTakeRequest,
    AuctionTakeResult,
    BuyCollateralRequest,
    BuyCollateralResult,
    DeleverageRequest,
    DeleverageResult,
    PerpLossResult,
    SocializeRequest,
    SpotLossResult,
    StorefrontPublic,
)
from xmargin.store.commands_designs import (
    Absorb,
    AuctionReset,
    AuctionStart,
    AuctionTake,
    BuyCollateral,
    Deleverage,
    Socialize,
)
from xmargin.store.results import as_json, auction_status_doc

router = APIRouter(prefix="/v1", tags=["liquidation designs"])

AuctionId = Annotated[int, Path(ge=1, le=MAX_SEQ, description="The auction's id")]
_AUCTION = LiquidationDesign.AUCTION
_STOREFRONT = LiquidationDesign.STOREFRONT


def _units(value: object, decimals: int, wants_max: bool) -> Decimal | Literal["max"]:
    return "max" if wants_max else parse_amount(value, decimals, "amount")


# -- auctions ----------------------------------------------------------------------------
@router.get("/auctions", responses={200: {"model": AuctionList}, **ERRORS})
async def list_auctions(key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """Every running auction at the service's time: its price, age, and whether it needs
    a reset. Admin and liquidator."""
    authorize(key, "read_liquidations")
    m = services.live.market
    now, rows = auction_status(m, action_time(m, services.clock()))
    return json_response(as_json(auction_status_doc(now, rows)))


@router.post(
    "/auctions",
    responses={200: {"model": AuctionStartResult}, **BODY_ERRORS},
    openapi_extra=body_doc(
        "AuctionStartRequest",
        {"account": "short", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True},
    ),
)
async def start_auction(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start an auction of an account's collateral for its debt (contract 8.2; Maker's
    bark); the keeper's incentive is paid by the protocol. Liquidator only."""
    authorize(key, "liquidate")
    data, body = await read_body(request, AuctionStartRequest)
    m = services.live.market
    require_design(m, _AUCTION, "auction start")
    debt = m.asset(body.debt_asset)
    m.asset(body.collateral_asset)
    require_account(m, body.account)
    amount = _units(body.amount, debt.decimals, body.wants_max)
    cmd = AuctionStart(body.account, body.debt_asset, body.collateral_asset, amount)
    return await submit(cmd, request, data, key, services, idempotency_key)


@router.post(
    "/auctions/{auction_id}/take",
    responses={200: {"model": AuctionTakeResult}, **BODY_ERRORS},
    openapi_extra=body_doc("AuctionTakeRequest", {"amount": "2", "max_price": "2000"}),
)
async def take_auction(
    auction_id: AuctionId,
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Buy collateral from an auction at its price now (contract 8.2; Maker's take):
    ``amount`` units of collateral or ``max``, refused above ``max_price``. Liquidator
    only."""
    authorize(key, "liquidate")
    data, body = await read_body(request, AuctionTakeRequest)
    m = services.live.market
    a = m.auctions.get(auction_id)
    if a is None and idempotency_key is None:
        raise UnknownAuction(auction_id)
    # A retried take whose first try ended the auction finds it gone: the writer answers
    # it from its idempotency record, looked up before any rule runs; a key never seen
    # gets the ledger's UnknownAuction there, and nothing changes. The ledger checks the
    # amount against the collateral's decimals again, so the most decimals do here.
    decimals = m.asset(a.collateral_asset).decimals if a is not None else MAX_DECIMALS
    amount = _units(body.amount, decimals, body.wants_max)
    cap = None if body.max_price is None else parse_price(f"auction {auction_id}", body.max_price)
    return await submit(
        AuctionTake(auction_id, amount, cap), request, data, key, services, idempotency_key
    )


@router.post(
    "/auctions/{auction_id}/reset",
    responses={200: {"model": AuctionResetResult}, **ERRORS},
)
async def reset_auction(
    auction_id: AuctionId,
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Restart an auction's price from the oracle once it is older than ``tail`` or its
    price fell below ``cusp`` (contract 8.2; Maker's redo). No body. Liquidator only."""
    authorize(key, "liquidate")
    if idempotency_key is None and auction_id not in services.live.market.auctions:
        raise UnknownAuction(auction_id)
    return await submit(AuctionReset(auction_id), request, None, key, services, idempotency_key)


# -- the storefront ----------------------------------------------------------------------
@router.get("/storefront", responses={200: {"model": StorefrontPublic}, **ERRORS})
async def storefront(key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """The storefront's reserves, its target, and the absorbed collateral it holds with
    the price a buyer pays now (contract 8.3). Admin and liquidator."""
    authorize(key, "read_liquidations")
    m = services.live.market
    require_design(m, _STOREFRONT, "storefront")
    sf = m.params.storefront
    assert sf is not None  # the loader requires it under this design
    holdings = [
        {
            "asset": a,
            "units": fmt(u),
            "price": fmt(m.price(a)),
            "store_front_price": fmt(
                store_front_price(
                    m.price(a), sf.store_front_price_factor, liquidation_factor(m, sf, a)
                )
            ),
        }
        for a, u in m.protocol_collateral.items()
        if u
    ]
    return json_response(
        {
            "base": sf.base,
            "reserves": {a: fmt(v) for a, v in m.reserves.items() if v},
            "target_reserves": fmt(sf.target_reserves),
            "for_sale": m.reserves.get(sf.base, ZERO) < sf.target_reserves,
            "holdings": holdings,
        }
    )


@router.post(
    "/absorb",
    responses={200: {"model": AbsorbResult}, **BODY_ERRORS},
    openapi_extra=body_doc("AbsorbRequest", {"account": "under"}),
)
async def absorb(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Absorb an account below maintenance into the protocol (contract 8.3; Compound's
    absorb): it keeps the excess at its liquidation factors. Liquidator only."""
    authorize(key, "liquidate")
    data, body = await read_body(request, AbsorbRequest)
    m = services.live.market
    require_design(m, _STOREFRONT, "absorb")
    require_account(m, body.account)
    return await submit(Absorb(body.account), request, data, key, services, idempotency_key)


@router.post(
    "/buy-collateral",
    responses={200: {"model": BuyCollateralResult}, **BODY_ERRORS},
    openapi_extra=body_doc("BuyCollateralRequest", {"asset": "WETH", "amount": "1447.5"}),
)
async def buy_collateral(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Buy absorbed collateral at the store-front price while reserves are below target
    (contract 8.3; Compound's buyCollateral): pay ``amount`` units of the base asset, or
    ``max`` for all the protocol holds. Liquidator only."""
    authorize(key, "liquidate")
    data, body = await read_body(request, BuyCollateralRequest)
    m = services.live.market
    require_design(m, _STOREFRONT, "buy-collateral")
    sf = m.params.storefront
    assert sf is not None
    m.asset(body.asset)
    if body.asset == sf.base:
        raise InputError(f"buy-collateral: {body.asset} is the base asset, not collateral for sale")
    amount = _units(body.amount, m.asset(sf.base).decimals, body.wants_max)
    return await submit(
        BuyCollateral(body.asset, amount), request, data, key, services, idempotency_key
    )


# -- the loss waterfall ------------------------------------------------------------------
@router.post(
    "/socialize",
    responses={200: {"model": PerpLossResult | SpotLossResult}, **BODY_ERRORS},
    openapi_extra=body_doc("SocializeRequest", {"perp": "ETH-PERP"}),
)
async def socialize(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Spread a deficit the insurance fund did not cover (contract 8.4): over a perp's
    open interest through the funding index (Drift), or over an asset's depositors
    (supply index). ``amount``: units of the deficit, default all. Admin only."""
    authorize(key, "cover_losses")
    data, body = await read_body(request, SocializeRequest)
    m = services.live.market
    if body.perp is not None:
        asset = m.perp(body.perp).settlement_asset
    else:
        assert body.asset is not None
        asset = body.asset
    decimals = m.asset(asset).decimals
    amount = None if body.amount is None else parse_amount(body.amount, decimals, "amount")
    return await submit(
        Socialize(body.perp, body.asset, amount), request, data, key, services, idempotency_key
    )


@router.post(
    "/deleverage",
    responses={200: {"model": DeleverageResult}, **BODY_ERRORS},
    openapi_extra=body_doc("DeleverageRequest", {"account": "bankrupt", "perp": "ETH-PERP"}),
)
async def deleverage(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Close a bankrupt position against the most profitable opposite positions at its
    bankruptcy price (contract 8.4; dYdX's ADL). Admin only."""
    authorize(key, "cover_losses")
    data, body = await read_body(request, DeleverageRequest)
    m = services.live.market
    m.perp(body.perp)
    require_account(m, body.account)
    return await submit(
        Deleverage(body.account, body.perp), request, data, key, services, idempotency_key
    )
