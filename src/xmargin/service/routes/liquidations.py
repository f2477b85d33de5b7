"""``GET /v1/liquidations/queue``, ``GET /v1/liquidations/quote``, ``POST /v1/liquidations``.

A liquidation has two forms: section 3's (``debt_asset``, ``collateral_asset``), which
the market's design decides (contract 8.5: ``auction`` starts an auction, ``storefront``
absorbs the account), and section 5.4's (``perp``), the same under every design.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from xmargin.errors import InvalidRequest, NothingToLiquidate, Problem
from xmargin.mathlib import ZERO, fmt
from xmargin.model.liquidation_params import LiquidationDesign
from xmargin.model.market import Market
from xmargin.model.names import MAX_NAME_LENGTH
from xmargin.risk.trading import parse_size
from xmargin.risk.validation import parse_amount
from xmargin.service.auth import authorize
from xmargin.service.deps import (
    CurrentRole,
    IdempotencyKey,
    ServicesDep,
    read_json,
    validate_body,
)
from xmargin.service.ledger_commands import dry_run
from xmargin.service.routes.common import (
    BODY_ERRORS,
    ERRORS,
    body_doc,
    json_response,
    require_account,
    submit,
)
from xmargin.service.schemas import LiquidationRequest, LiquidationResult, QueuePublic
from xmargin.service.schemas_designs import AbsorbResult, AuctionStartResult
from xmargin.service.schemas_perps import PerpLiquidationRequest, PerpLiquidationResult
from xmargin.store.commands_designs import Absorb, AuctionStart
from xmargin.store.commands_perps import PerpLiquidation
from xmargin.store.journal import Command, Liquidation

router = APIRouter(prefix="/v1", tags=["liquidations"])

Name = Annotated[str, Query(min_length=1, max_length=MAX_NAME_LENGTH)]


def _largest(market: Market, units: dict[str, Decimal]) -> str | None:
    best, best_value = None, ZERO
    for a, u in units.items():
        v = u * market.assets[a].price
        if best is None or v > best_value:
            best, best_value = a, v
    return best


def _largest_perp(market: Market, account: str) -> str | None:
    best, best_value = None, ZERO
    for name, pos in market.accounts[account].perps.items():
        v = abs(pos.size) * market.perp_price(market.perps[name])
        if best is None or v > best_value:
            best, best_value = name, v
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
                    "perp": _largest_perp(m, i),
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


def _size(market: Market, perp: str, size: object) -> Decimal | Literal["max"]:
    if size == "max":
        return "max"
    underlying = market.asset(market.perp(perp).underlying)
    return parse_size(size, underlying.decimals, "size", signed=False)


def _absorbable(market: Market, account: str, debt_asset: str, collateral_asset: str) -> None:
    """Under the storefront, ``liquidate`` absorbs the account: the pair it names must be
    a debt and a collateral of the account (as the CLI's ``liquidate``)."""
    acc = market.account(account)
    if not acc.borrowed(debt_asset):
        raise NothingToLiquidate(account, f"owes no {debt_asset}")
    if not acc.supplied(collateral_asset):
        raise NothingToLiquidate(account, f"holds no {collateral_asset}")


def _spot_command(
    market: Market,
    account: str,
    debt_asset: str,
    collateral_asset: str,
    amount: Decimal | Literal["max"],
) -> Liquidation | AuctionStart | Absorb:
    """What a section-3 liquidation request is under the market's design (contract 8.5):
    a liquidation (close factor, target health), an auction start, or an absorb."""
    design = market.params.liquidation
    if design == LiquidationDesign.AUCTION:
        return AuctionStart(account, debt_asset, collateral_asset, amount)
    if design == LiquidationDesign.STOREFRONT:
        if amount != "max":
            raise InvalidRequest(
                [Problem("amount", 'absorb takes every balance: send "max": true')]
            )
        _absorbable(market, account, debt_asset, collateral_asset)
        return Absorb(account)
    return Liquidation(account, debt_asset, collateral_asset, amount)


#: Every answer a liquidation or its quote may give: by form and design.
LIQUIDATION_RESULTS = LiquidationResult | PerpLiquidationResult | AuctionStartResult | AbsorbResult
Query_ = Annotated[str | None, Query(min_length=1, max_length=MAX_NAME_LENGTH)]


@router.get("/liquidations/quote", responses={200: {"model": LIQUIDATION_RESULTS}, **ERRORS})
async def liquidation_quote(
    key: CurrentRole,
    services: ServicesDep,
    account: Name,
    debt_asset: Query_ = None,
    collateral_asset: Query_ = None,
    amount: Annotated[
        str, Query(min_length=1, max_length=100, description='Units of the debt asset, or "max"')
    ] = "max",
    perp: Annotated[
        str | None,
        Query(min_length=1, max_length=MAX_NAME_LENGTH, description="The perp form (5.4)"),
    ] = None,
    size: Annotated[
        str,
        Query(min_length=1, max_length=100, description='Perp form: base units, or "max"'),
    ] = "max",
) -> JSONResponse:
    """What ``POST /v1/liquidations`` would do now, without doing it: give ``debt_asset``
    and ``collateral_asset`` (section 3, or the market's design: an auction start at the
    service's time, an absorb), or ``perp`` (section 5.4). Admin and liquidator."""
    authorize(key, "read_liquidations")
    m = services.live.market
    if perp is not None:
        if debt_asset is not None or collateral_asset is not None:
            raise InvalidRequest(
                [Problem("query.perp", "the perp form takes no debt_asset or collateral_asset")]
            )
        m.account(account)
        cmd: Command = PerpLiquidation(account, perp, _size(m, perp, size))
    else:
        missing = [
            Problem(f"query.{n}", "required (or give perp)")
            for n, v in (("debt_asset", debt_asset), ("collateral_asset", collateral_asset))
            if v is None
        ]
        if missing:
            raise InvalidRequest(missing)
        assert debt_asset is not None and collateral_asset is not None
        m.asset(debt_asset)
        m.asset(collateral_asset)
        m.account(account)
        want = _amount(m, debt_asset, amount)
        cmd = _spot_command(m, account, debt_asset, collateral_asset, want)
    return json_response(dry_run(services.live, cmd, services.clock()))


@router.post(
    "/liquidations",
    responses={200: {"model": LIQUIDATION_RESULTS}, **BODY_ERRORS},
    openapi_extra=body_doc(
        ["LiquidationRequest", "PerpLiquidationRequest"],
        {
            "account": "eth-underwater",
            "debt_asset": "USDC",
            "collateral_asset": "WETH",
            "max": True,
        },
    ),
)
async def liquidate(
    request: Request,
    key: CurrentRole,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Liquidate, and answer as the CLI's ``liquidate``: with ``debt_asset`` and
    ``collateral_asset`` as contract section 3 says (or as the market's design does:
    ``target`` 8.1; ``auction`` starts an auction, 8.2; ``storefront`` absorbs the
    account, 8.3); with ``perp`` as section 5.4 says, under every design. Liquidator
    only."""
    authorize(key, "liquidate")
    data = await read_json(request)
    m = services.live.market
    cmd: Liquidation | AuctionStart | Absorb | PerpLiquidation
    if isinstance(data, dict) and "perp" in data:
        pbody = validate_body(PerpLiquidationRequest, data)
        size = "max" if pbody.wants_max else _size(m, pbody.perp, pbody.size)
        m.perp(pbody.perp)
        cmd = PerpLiquidation(pbody.account, pbody.perp, size)
        account = pbody.account
    else:
        body = validate_body(LiquidationRequest, data)
        m.asset(body.debt_asset)
        m.asset(body.collateral_asset)
        want = "max" if body.wants_max else _amount(m, body.debt_asset, body.amount)
        require_account(m, body.account)
        cmd = _spot_command(m, body.account, body.debt_asset, body.collateral_asset, want)
        account = body.account
    require_account(m, account)
    return await submit(cmd, request, data, key, services, idempotency_key)
