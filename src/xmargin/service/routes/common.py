"""Helpers shared by the routes."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from xmargin.errors import InvalidRequest, Problem, UnknownAccount
from xmargin.liquidation_errors import LiquidationDesignMismatch
from xmargin.model.liquidation_params import LiquidationDesign
from xmargin.model.market import Market
from xmargin.model.names import MAX_NAME_LENGTH, name_problem
from xmargin.service.batch_prepare import Request as WriterRequest
from xmargin.service.deps import Services, fingerprint, read_json, validate_body
from xmargin.service.schemas import ErrorResponse
from xmargin.service.writer import Outcome
from xmargin.store.records import ApiKey

__all__ = [
    "BODY_ERRORS",
    "ERRORS",
    "AccountId",
    "body_doc",
    "check_name",
    "json_response",
    "outcome_response",
    "read_body",
    "require_account",
    "require_design",
    "submit",
]

M = TypeVar("M", bound=BaseModel)

#: An account's id in a route's path.
AccountId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="Letters, digits and _-.:@+#~ (contract: Names); case-sensitive",
    ),
]

_ERROR_TEXT = {
    400: "The body is not JSON, or not UTF-8",
    401: "Missing, unknown, revoked or expired API key",
    403: "This key's role may not do this",
    404: "Unknown account, asset, perp or auction",
    408: "The body did not arrive in time",
    409: "Refused by a rule; nothing changed",
    413: "The body is larger than the limit",
    422: "Invalid input; nothing changed",
    429: "Too many failed authentications from this client (see Retry-After)",
    503: "The store cannot write or read now; retry",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse, "description": _ERROR_TEXT[s]} for s in statuses}


#: Error responses documented on every route with a key (and no body).
ERRORS = _errors(401, 403, 404, 409, 422, 429, 503)
#: ... and on the routes that read a body.
BODY_ERRORS = _errors(400, 401, 403, 404, 408, 409, 413, 422, 429, 503)


def check_name(value: str, location: str) -> str:
    """``value`` if it is a valid name (contract: Names); else 422 at ``location``."""
    why = name_problem(value)
    if why is not None:
        raise InvalidRequest([Problem(location, why)])
    return value


def body_doc(schema: str | list[str], example: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its body by hand: the body's schema (a
    component, or any of several) and an example."""
    names = [schema] if isinstance(schema, str) else schema
    refs = [{"$ref": f"#/components/schemas/{n}"} for n in names]
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": refs[0] if len(refs) == 1 else {"anyOf": refs},
                    "example": example,
                }
            },
        }
    }


def require_design(market: Market, design: LiquidationDesign, command: str) -> None:
    """422 ``liquidation_design_mismatch`` unless ``market`` liquidates by ``design``."""
    if market.params.liquidation != design:
        raise LiquidationDesignMismatch(command, f"'{design.value}'", market.params.liquidation)


def json_response(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def outcome_response(outcome: Outcome) -> JSONResponse:
    """The writer's answer; a replayed Idempotency-Key is flagged in a header."""
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


async def read_body(request: Request, model: type[M]) -> tuple[Any, M]:
    """The body as read (for the idempotency fingerprint) and as ``model``: 400, 413 or
    408 when it cannot be read, 422 when it does not fit."""
    data = await read_json(request)
    return data, validate_body(model, data)


def require_account(market: Market, account: str) -> None:
    """404 ``unknown_account`` unless ``market`` holds ``account``."""
    if account not in market.accounts:
        raise UnknownAccount(account)


async def submit(
    command: WriterRequest,
    request: Request,
    data: Any,
    key: ApiKey,
    services: Services,
    idempotency_key: str | None,
    method: str = "POST",
) -> JSONResponse:
    """Queue ``command`` for the writer under the caller's key and Idempotency-Key (the
    request's method, path and body its fingerprint) and answer its committed outcome."""
    outcome = await services.writer.submit(
        command, key.id, idempotency_key, fingerprint(method, request.url.path, data)
    )
    return outcome_response(outcome)
