"""``GET /v1/accounts/{id}`` and ``POST /v1/accounts/{id}/deposit|withdraw|borrow|repay``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from xmargin.risk.validation import parse_amount
from xmargin.service.auth import authorize
from xmargin.service.deps import (
    CurrentRole,
    IdempotencyKey,
    Services,
    ServicesDep,
)
from xmargin.service.routes.common import (
    BODY_ERRORS,
    ERRORS,
    AccountId,
    check_name,
    json_response,
    read_body,
    require_account,
    submit,
)
from xmargin.service.schemas import AccountPublic, ActionRequest, ActionResult
from xmargin.service.views import account_json
from xmargin.store.journal import ACCOUNT_ACTIONS, AccountAction, AccountActionKind
from xmargin.store.records import ApiKey

router = APIRouter(prefix="/v1", tags=["accounts"])

_DOC = {
    "deposit": "Supply `amount` units of `asset`; opens the account if it is new.",
    "withdraw": "Take back supplied units, if initial margin still holds afterwards.",
    "borrow": "Borrow units, if caps, isolation, category and initial margin allow.",
    "repay": "Repay borrowed units; never refused for margin.",
}


@router.get("/accounts/{account_id}", responses={200: {"model": AccountPublic}, **ERRORS})
async def get_account(
    account_id: AccountId, key: CurrentRole, services: ServicesDep
) -> JSONResponse:
    """Balances and every health figure. Admin, liquidator, or the account's own key."""
    check_name(account_id, "path.account_id")
    authorize(key, "read_account", account_id)
    m = services.live.market
    acc = m.account(account_id)
    return json_response(account_json(acc, m, services.risk.level_of(account_id)))


async def submit_action(
    kind: AccountActionKind,
    account_id: str,
    request: Request,
    key: ApiKey,
    services: Services,
    idempotency_key: str | None,
) -> JSONResponse:
    """One deposit / withdraw / borrow / repay, after the key and the path: the body
    checked, the command queued, its committed outcome answered. Shared by the FastAPI
    route (documentation, and any request the lean path does not take) and the lean
    action path (:mod:`xmargin.service.action_lane`)."""
    check_name(account_id, "path.account_id")
    authorize(key, "move_balances", account_id)
    data, body = await read_body(request, ActionRequest)
    market = services.live.market
    asset = market.asset(body.asset)
    amount = parse_amount(body.amount, asset.decimals, "amount")
    if kind != "deposit":
        require_account(market, account_id)
    return await submit(
        AccountAction(kind, account_id, body.asset, amount),
        request,
        data,
        key,
        services,
        idempotency_key,
    )


def _action_route(kind: AccountActionKind) -> None:
    async def act(
        account_id: AccountId,
        request: Request,
        key: CurrentRole,
        services: ServicesDep,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await submit_action(kind, account_id, request, key, services, idempotency_key)

    act.__name__ = kind
    act.__doc__ = f"{_DOC[kind]} The account's own key only."
    router.add_api_route(
        f"/accounts/{{account_id}}/{kind}",
        act,
        methods=["POST"],
        name=kind,
        summary=kind.capitalize(),
        responses={200: {"model": ActionResult}, **BODY_ERRORS},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ActionRequest"},
                        "example": {"asset": "USDC", "amount": "1500.25"},
                    }
                },
            }
        },
    )


for _kind in ACCOUNT_ACTIONS:
    _action_route(_kind)
