"""The dashboard's account endpoints: ``GET /v1/accounts/{id}/risk`` (positions, weights,
liquidation prices) and ``GET /v1/accounts/{id}/what-if`` (a price shock, exactly;
nothing changes). Admin, liquidator, or the account's own key, as ``GET /v1/accounts/{id}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from xmargin.analytics.overview import status_of
from xmargin.analytics.stress import parse_shock
from xmargin.analytics.what_if import account_risk, what_if
from xmargin.errors import InputError, InvalidRequest, Problem, UnknownAsset
from xmargin.mathlib import fmt
from xmargin.risk.health import AccountHealth
from xmargin.service.auth import authorize
from xmargin.service.dashboard.schemas import (
    AccountRiskPublic,
    HealthFigures,
    PositionPublic,
    WhatIfLiquidation,
    WhatIfPublic,
)
from xmargin.service.deps import CurrentRole, ServicesDep
from xmargin.service.routes.common import ERRORS

router = APIRouter(prefix="/v1", tags=["dashboard"])

AccountId = Annotated[str, Path(min_length=1, max_length=200)]
#: Most assets one what-if may shock.
MAX_SHOCKS = 64


def _health(h: AccountHealth, at_risk_below: Decimal) -> HealthFigures:
    return HealthFigures(
        collateral_value=fmt(h.collateral_value) or "0",
        debt_value=fmt(h.debt_value) or "0",
        initial_collateral=fmt(h.initial_collateral) or "0",
        initial_debt=fmt(h.initial_debt) or "0",
        maintenance_collateral=fmt(h.maintenance_collateral) or "0",
        maintenance_debt=fmt(h.maintenance_debt) or "0",
        health_factor=fmt(h.health_factor),
        available_to_borrow=fmt(h.available_to_borrow) or "0",
        liquidatable=h.liquidatable,
        status=status_of(h, at_risk_below),
    )


@router.get("/accounts/{account_id}/risk", responses={200: {"model": AccountRiskPublic}, **ERRORS})
async def get_account_risk(
    account_id: AccountId, key: CurrentRole, services: ServicesDep
) -> JSONResponse:
    """Every health figure, and per asset held: units, values, effective weights and the
    liquidation price. Admin, liquidator, or the account's own key."""
    authorize(key, "read_account", account_id)
    m = services.live.market
    r = account_risk(m, account_id)
    body = AccountRiskPublic(
        account=r.account,
        category=r.category,
        quote=m.params.quote,
        journal_seq=services.live.last_seq,
        health=_health(r.health, services.settings.at_risk_below),
        positions=[
            PositionPublic(
                asset=p.asset,
                price=fmt(p.price) or "0",
                supply=fmt(p.supply) or "0",
                borrow=fmt(p.borrow) or "0",
                supply_value=fmt(p.supply_value) or "0",
                borrow_value=fmt(p.borrow_value) or "0",
                collateral_factor=fmt(p.collateral_factor) or "0",
                liquidation_threshold=fmt(p.liquidation_threshold) or "0",
                borrow_weight=fmt(p.borrow_weight) or "0",
                maintenance_borrow_weight=fmt(p.maintenance_borrow_weight) or "0",
                liquidation_price=fmt(p.liquidation_price.price),
                liquidation_change=fmt(p.liquidation_price.change),
            )
            for p in r.positions
        ],
    )
    return JSONResponse(body.model_dump(mode="json"))


def _shocks(texts: list[str], assets: dict[str, object]) -> dict[str, Decimal]:
    if not texts:
        raise InvalidRequest([Problem("query.shock", "give at least one, e.g. shock=WETH=-20%")])
    if len(texts) > MAX_SHOCKS:
        raise InvalidRequest([Problem("query.shock", f"at most {MAX_SHOCKS} shocks")])
    out: dict[str, Decimal] = {}
    for i, text in enumerate(texts):
        try:
            asset, shock = parse_shock(text)
        except InputError as exc:
            raise InvalidRequest([Problem(f"query.shock.{i}", exc.message)]) from None
        if asset not in assets:
            raise UnknownAsset(asset, f"query.shock.{i}")
        if asset in out:
            raise InvalidRequest([Problem(f"query.shock.{i}", f"shocks {asset} twice")])
        out[asset] = shock
    return out


@router.get("/accounts/{account_id}/what-if", responses={200: {"model": WhatIfPublic}, **ERRORS})
async def get_what_if(
    account_id: AccountId,
    key: CurrentRole,
    services: ServicesDep,
    shock: Annotated[
        list[str],
        Query(
            description="ASSET=-20% (or ASSET=-0.2): the asset's price times (1 + shock); "
            "repeat for several assets",
        ),
    ] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
) -> JSONResponse:
    """The account's figures after a price shock, and what the largest liquidation would
    then do. Calls the exact engine on a copy: nothing changes. Admin, liquidator, or the
    account's own key."""
    authorize(key, "read_account", account_id)
    m = services.live.market
    shocks = _shocks(shock, dict(m.assets))
    w = what_if(m, account_id, shocks)
    level = services.settings.at_risk_below
    q = w.liquidation
    body = WhatIfPublic(
        account=w.account,
        shocks={a: fmt(s) or "0" for a, s in w.shocks.items()},
        prices={a: fmt(p) or "0" for a, p in w.prices.items()},
        before=_health(w.before, level),
        after=_health(w.after, level),
        liquidation=None
        if q is None
        else WhatIfLiquidation(
            debt_asset=q.debt_asset,
            collateral_asset=q.collateral_asset,
            repaid=fmt(q.repaid) or "0",
            seized=fmt(q.seized) or "0",
            bonus=fmt(q.bonus) or "0",
            health_factor_after=fmt(q.health_factor_after),
            bad_debt={a: fmt(u) or "0" for a, u in q.bad_debt.items()},
        ),
        refused=w.refused,
    )
    return JSONResponse(body.model_dump(mode="json"))
